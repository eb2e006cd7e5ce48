"""Submit: a transcript (file or pasted), a video link or a video file, with options; the
estimated minutes and cost against the plan before anything runs; a bundled sample to try."""

from __future__ import annotations

import streamlit as st

from pipeline import api, views, wording
from pipeline.errors import ClipInsightError, InvalidInput
from pipeline.options import TONES, JobOptions
from workbench import shell
from workbench.common import caller, workspace
from workbench.shell import RUN_PAGE
from workbench.text import literal

shell.enter()  # first: the app's navigation, even when Streamlit runs this file directly

KINDS = ["Transcript file", "Pasted transcript", "Video link", "Video file"]
MEDIA_TYPES = ["mp4", "mov", "mkv", "webm", "m4a", "mp3", "wav", "ogg", "flac"]


def submitted(result: api.Submission) -> None:
    if result.duplicate:
        label = wording.status_words(result.status).label.lower()
        st.info(f"This is already running as job {result.job_id} ({label}); no new job was made.")
    else:
        st.success(f"Submitted job {result.job_id}.")
    if not views.services()["workers"]:
        st.warning("No worker is running, so the job waits. Start the product with `make run`.")
    st.page_link(
        RUN_PAGE,
        label=f"Open job {result.job_id}",
        query_params={"job": result.job_id},
        icon=":material/arrow_forward:",
    )


def sample_section() -> None:
    st.markdown(
        "**New here?** Run a bundled sample transcript: it works offline, takes a few seconds and does not "
        "count against your plan."
    )
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    name = left.selectbox("Sample", list(views.samples()), key="sample_name")
    if right.button("Run the sample", type="primary", key="run_sample"):
        submitted(api.submit_sample(name, workspace=workspace(), caller=caller()))


def transcript_input(kind: str) -> tuple[bytes | str, str] | None:
    if kind == "Transcript file":
        upload = st.file_uploader(
            "Transcript file (.srt, .vtt or .txt)",
            type=["srt", "vtt", "txt"],
            key="transcript_file",
            max_upload_size=views.upload_limits()["transcript_mb"],
        )
        return (upload.getvalue(), upload.name) if upload else None
    text = st.text_area(
        "Transcript",
        height=200,
        key="transcript_text",
        max_chars=views.upload_limits()["transcript_mb"] * 2**20,
        placeholder="Paste SRT, WebVTT or plain text; [m:ss] at the start of a line sets its time",
    )
    return (text, "pasted.txt") if text.strip() else None


def show_estimate(transcript: tuple[bytes | str, str], error_slot) -> dict | None:
    """Minutes and cost against the plan; a file that cannot be read is an error at the field."""
    try:
        found = views.estimate(*transcript, workspace=workspace(), caller=caller())
    except InvalidInput as exc:
        error_slot.error(literal(str(exc)))
        return None
    cost = "unknown" if found["cost_usd"] is None else f"${found['cost_usd']:.2f}"
    columns = st.columns(3)
    columns[0].metric("Minutes", f"{found['minutes']:.1f}", help=f"{found['words']:,} words")
    columns[1].metric("Left this month", f"{found['left_minutes']:.0f} min", help=f"{found['plan']['plan']} plan")
    columns[2].metric("Estimated cost", cost, help=found["cost_basis"])
    if found["note"]:
        st.info(literal(found["note"]))
    if found["problem"]:
        error_slot.error(literal(found["problem"]))
    return found


def options_section() -> tuple[dict, object]:
    choices = {choice["name"]: choice["label"] for choice in views.format_choices()}
    chosen = [choice["name"] for choice in views.format_choices() if choice["default"]]
    drafts, tone_column, cta_column = st.columns([3, 1, 2])
    formats = drafts.multiselect("Drafts", list(choices), default=chosen, format_func=choices.get, key="formats")
    tone = tone_column.selectbox("Tone", TONES, key="tone")
    cta = cta_column.text_input("Call-to-action link", placeholder="https://…", key="cta")
    whose, speaker_column = st.columns([1, 2])
    own = whose.radio("Whose talk is it?", ["Mine", "Someone else's"], horizontal=True, key="whose") == "Mine"
    speaker = speaker_column.text_input(
        "Speaker's name",
        key="speaker",
        disabled=own,
        placeholder="e.g. John F. Kennedy",
        help="Drafts quote and credit them",
    )
    error_slot = st.empty()
    options = {"formats": formats, "tone": tone, "cta_url": cta, "speaker": None if own else speaker}
    return options, error_slot


def source_input(kind: str) -> tuple[object, object]:
    """What to submit for a link or a media file, and the slot for its error."""
    if kind == "Video link":
        value = st.text_input("Video link", placeholder="https://www.youtube.com/watch?v=…", key="video_link")
    else:
        upload = st.file_uploader(
            "Video or audio file", type=MEDIA_TYPES, key="media_file", max_upload_size=views.upload_limits()["media_mb"]
        )
        value = upload
    return value, st.empty()


def submit_source(kind: str, value, options: JobOptions, error_slot) -> None:
    if not value:
        error_slot.error("Give a video link." if kind == "Video link" else "Choose a file to upload.")
        return
    try:
        source = views.as_link(value) if kind == "Video link" else str(api.save_upload(value.getvalue(), value.name))
        submitted(api.submit(source, workspace=workspace(), options=options, caller=caller()))
    except ClipInsightError as exc:
        error_slot.error(literal(str(exc)))


def submit_transcript(transcript, found: dict | None, options: JobOptions, error_slot) -> None:
    if transcript is None:
        error_slot.error("Choose a transcript file or paste one.")
    elif found is not None and not found["problem"]:
        try:
            submitted(
                api.submit(
                    transcript=transcript[0],
                    transcript_name=transcript[1],
                    workspace=workspace(),
                    options=options,
                    caller=caller(),
                )
            )
        except ClipInsightError as exc:
            error_slot.error(literal(str(exc)))


def form() -> None:
    kind = st.radio("What do you have?", KINDS, horizontal=True, key="submit_kind")
    transcript = found = None
    if kind in KINDS[:2]:
        transcript = transcript_input(kind)
        error_slot = st.empty()
        found = show_estimate(transcript, error_slot) if transcript else None
    else:
        value, error_slot = source_input(kind)
        st.caption("Minutes and cost are known once the source has been read; the plan is checked then.")
    chosen, options_error = options_section()
    if not st.button("Submit", type="primary", key="submit"):
        return
    try:
        options = views.build_options(**chosen)
    except InvalidInput as exc:
        options_error.error(literal(str(exc)))
        return
    if transcript is not None or kind in KINDS[:2]:
        submit_transcript(transcript, found, options, error_slot)
    else:
        submit_source(kind, value, options, error_slot)


st.title("Submit")
sample_section()
st.divider()
form()
