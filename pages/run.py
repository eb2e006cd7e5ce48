"""Run detail: one job in full — step timeline and logs, transcript, insight pack, the drafts
(editable, with versions and diffs), the QA report, re-run from a step, and downloads.

The job comes from the ``job`` query parameter; ``tab`` picks the tab and ``t`` (seconds) a
moment of the transcript, so a quote links straight to where it was said."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from pipeline import api, defaults, diffs, views, wording
from pipeline.access import Action
from pipeline.errors import ClipInsightError, NotFound
from pipeline.stages import JobStatus
from pipeline.transcript import timestamp
from workbench import shell
from workbench.common import (
    caller,
    flash,
    local_times,
    show_flash,
    status_badge,
    status_changes,
    when,
    zone_name,
)
from workbench.draft_editor import draft_editor
from workbench.shell import REVIEW_PAGE, RUN_PAGE, RUNS_PAGE
from workbench.text import literal, literal_frame

shell.enter()  # first: the app's navigation, even when Streamlit runs this file directly

#: What a person may do on this page, as ``views.run_header``'s ``allowed`` names it.
EDIT, CANCEL, RETRY, RERUN = (a.value for a in (Action.EDIT_DRAFT, Action.CANCEL, Action.RETRY, Action.RERUN))
PROVIDE = Action.PROVIDE_TRANSCRIPT.value

STATUS_COLORS = {
    "done": "#2e7d32",
    "running": "#1565c0",
    "queued": "#90a4ae",
    "scheduled": "#b0bec5",
    "failed": "#c62828",
    "lost": "#ef6c00",
    "cancelled": "#757575",
}


def moment_link(job_id: str, seconds: float, text: str) -> None:
    """A link to the transcript at that moment; ``text`` (from outside) shows as written."""
    st.page_link(
        RUN_PAGE,
        label=f"{timestamp(seconds)} — {literal(text)}",
        query_params={"job": job_id, "tab": "Transcript", "t": f"{seconds:.3f}"},
    )


def choose_job() -> None:
    st.title("Run detail")
    st.info("Open a job from the Runs page, or enter its id.")
    st.page_link(RUNS_PAGE, label="Go to Runs", icon=":material/list:")
    job_id = st.text_input("Job id", key="detail_job_id").strip()
    if job_id:
        st.query_params["job"] = job_id
        st.rerun()


# --- Header, live status and actions -----------------------------------------------------


def header(detail: dict) -> None:
    job = detail["job"]
    st.title(literal(job["title"] or job["source"]))
    badges = st.container(horizontal=True)
    with badges:
        status_badge(job["status"], job["error_code"])
        if detail["approved_by"]:
            st.badge(f"Approved by {detail['approved_by']}", icon=":material/verified:", color="green")
    st.caption(
        literal(
            f"{job['source_kind']}: {job['source']} · workspace {job['workspace']} · "
            f"submitted {when(job['created_at'])} · {job['job_id']}"
        )
    )
    cost = sum(row["cost_usd"] for row in detail["usage"]) if detail["usage"] else None
    facts = st.container(horizontal=True, gap="large")  # one row, on a phone too
    facts.metric("Length", wording.duration(job["duration_s"]), width="content")
    facts.metric("QA score", job["qa_score"] if job["qa_score"] is not None else "—", width="content")
    facts.metric("Cost", f"${cost:.2f}" if cost is not None else "—", width="content")
    if detail["why"]:
        (st.error if job["error_code"] else st.caption)(literal(detail["why"]))
    if job["status"] == JobStatus.REQUIRES_MANUAL_REVIEW.value:
        st.page_link(REVIEW_PAGE, label="Review the flagged drafts", icon=":material/rate_review:")
    source_details(job["metadata"])


def source_details(metadata: dict) -> None:
    """What the source said about itself at ingest (channel, upload date, thumbnail), when it did."""
    day = metadata.get("upload_date") or ""
    if len(day) == 8 and day.isdigit():  # yt-dlp's YYYYMMDD
        day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    facts = [f"channel {metadata['channel']}" if metadata.get("channel") else "", f"uploaded {day}" if day else ""]
    line = " · ".join(part for part in facts if part)
    if metadata.get("thumbnail_url"):
        st.image(metadata["thumbnail_url"], width=240)
    if line:
        st.caption(literal(line))
    url = metadata.get("webpage_url") or ""
    if url.startswith(("https://", "http://")):
        st.link_button("Watch the source", url, icon=":material/open_in_new:")


@st.fragment(run_every=defaults.UI_REFRESH_S)
def live_status(job_id: str, shown_status: str) -> None:
    """While the job runs: its progress, and a full refresh when its status moves on."""
    now = views.job_status(job_id, caller=caller())
    if now["status"] != shown_status:
        st.rerun()
    st.progress(now["progress"] or 0.0, text=f"{now['status_label']}: {now['now'] or 'waiting for a worker'}")


def act(action, done: str, *args) -> None:
    try:
        status = action(*args, caller=caller())
    except ClipInsightError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{done}; the job is now {wording.status_words(status).label.lower()}.")
    st.session_state.pop("confirming", None)
    st.rerun()


def stage_words(stage: str) -> str:
    return wording.step_words(stage).capitalize()


@st.dialog("Re-run from a step", on_dismiss=lambda: st.session_state.pop("confirming", None))
def confirm_rerun(job_id: str, stages: list[str], default: str) -> None:
    stage = st.selectbox(
        "Start again at", stages, index=stages.index(default), format_func=stage_words, key="rerun_stage"
    )
    st.write(
        "A new run makes this step and every step after it again; what came before is reused. "
        "Drafts get new versions (the old ones stay in the history), and QA scores them again."
    )
    if st.button(f"Re-run from {stage_words(stage).lower()}", type="primary", key="rerun"):
        act(api.rerun, f"Re-running from {stage_words(stage).lower()}", job_id, stage)


@st.dialog("Cancel this job?", on_dismiss=lambda: st.session_state.pop("confirming", None))
def confirm_cancel(job_id: str) -> None:
    st.write("The job stops where it is. Nothing made so far is deleted; you can retry it later.")
    if st.button("Cancel the job", type="primary", key="cancel"):
        act(api.cancel, "Cancelled", job_id)


def confirm(which: str) -> None:
    st.session_state["confirming"] = which


def actions(detail: dict) -> None:
    """A job's actions sit in one menu; the ones that undo work ask first."""
    job_id = detail["job"]["job_id"]
    menu = st.popover("Actions", icon=":material/more_horiz:", key="actions")
    allowed, needs = detail["allowed"], detail["needs"]
    can_rerun, can_cancel = detail["can_rerun"] and allowed[RERUN], detail["can_cancel"] and allowed[CANCEL]
    menu.button(
        "Re-run from a step…",
        disabled=not can_rerun,
        key="open_rerun",
        on_click=confirm,
        args=("rerun",),
        help=None if allowed[RERUN] else f"Only {needs[RERUN]} may re-run a step.",
    )
    menu.button(
        "Cancel the job…",
        disabled=not can_cancel,
        key="open_cancel",
        on_click=confirm,
        args=("cancel",),
        help=None if allowed[CANCEL] else f"Only {needs[CANCEL]} may cancel a job.",
    )
    retry_help = None if allowed[RETRY] else f"Only {needs[RETRY]} may retry a job."
    if menu.button("Retry from the failed step", disabled=not (detail["can_retry"] and allowed[RETRY]), key="retry",
                   help=retry_help):  # fmt: skip
        act(api.retry, "Retrying from the failed step", job_id)
    confirming = st.session_state.get("confirming")
    if confirming == "rerun" and can_rerun:
        confirm_rerun(job_id, detail["stages"], detail["rerun_default"])
    elif confirming == "cancel" and can_cancel:
        confirm_cancel(job_id)
    if detail["job"]["status"] == JobStatus.NEEDS_USER_INPUT.value and allowed[PROVIDE]:
        provide(job_id)


def provide(job_id: str) -> None:
    """The job waits for a transcript it could not make well enough itself."""
    with st.form("provide"):
        upload = st.file_uploader(
            "Provide the transcript (.srt, .vtt or .txt)", type=["srt", "vtt", "txt"], key="provide_file"
        )
        error_slot = st.empty()
        if not st.form_submit_button("Continue with this transcript", type="primary"):
            return
    if upload is None:
        error_slot.error("Choose the transcript file first.")
        return
    try:
        status = api.provide_transcript(job_id, upload.getvalue(), upload.name, caller=caller())
    except ClipInsightError as exc:
        error_slot.error(literal(str(exc)))
        return
    flash(f"Transcript {literal(upload.name)} provided; the job is now {wording.status_words(status).label.lower()}.")
    st.rerun()


# --- Timeline ----------------------------------------------------------------------------


def attempts_frame(attempts: list[dict]) -> pd.DataFrame:
    now = pd.Timestamp.now("UTC").tz_localize(None)
    frame = pd.DataFrame(attempts)
    frame["start"] = frame["started_at"].fillna(frame["queued_at"])
    frame["end"] = frame["finished_at"].fillna(now)
    frame["run"] = frame["run_id"].str.rsplit(".", n=1).str[-1]
    frame["error"] = frame["error_code"].fillna("") + " " + frame["error_message"].fillna("")
    return local_times(frame, "start", "end")


def timeline(detail: dict) -> None:
    if not detail["attempts"]:
        st.info("No step has run yet.")
        return
    frame = attempts_frame(detail["attempts"])
    figure = px.timeline(
        frame,
        x_start="start",
        x_end="end",
        y="step",
        color="status",
        color_discrete_map=STATUS_COLORS,
        hover_data=["run", "attempt", "worker", "error"],
        category_orders={"step": [s for s in detail["step_order"] if s in set(frame["step"])]},
    )
    figure.update_layout(
        height=110 + 32 * frame["step"].nunique(),
        margin={"t": 40, "b": 10},
        xaxis_title=f"time ({zone_name()})",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},  # room on a phone
    )
    st.plotly_chart(figure, key="timeline")
    failed = frame[frame["status"].isin(["failed", "lost"])]
    for row in failed.itertuples():
        step = wording.step_words(row.step).capitalize()
        st.warning(f"{step}, try {row.attempt} ({row.run}): {literal(row.error.strip())}")
    logs(detail["logs"])
    st.subheader("Status changes")
    status_changes(detail["audit"], key="audit")


def logs(lines: list[dict]) -> None:
    st.subheader("Log")
    if not lines:
        st.caption("No log lines yet.")
        return
    frame = pd.DataFrame(lines)[["logged_at", "step", "attempt", "level", "message"]]
    steps_column, levels_column = st.columns(2)
    steps = steps_column.multiselect("Steps", sorted(frame["step"].unique()), key="log_steps", placeholder="All steps")
    levels = levels_column.multiselect(
        "Levels", sorted(frame["level"].unique()), key="log_levels", placeholder="All levels"
    )
    shown = frame[frame["step"].isin(steps)] if steps else frame
    shown = shown[shown["level"].isin(levels)] if levels else shown
    st.dataframe(
        local_times(shown, "logged_at"),
        hide_index=True,
        key="log_table",
        column_config={"logged_at": st.column_config.DatetimeColumn("When", format="MMM D, HH:mm:ss.SSS")},
    )


# --- Transcript --------------------------------------------------------------------------


def moment(detail: dict, seconds: float) -> None:
    transcript, job = detail["transcript"], detail["job"]
    index = views.segment_at(transcript, seconds)
    if index is None:
        st.warning(f"The transcript has nothing at {timestamp(seconds)}.")
        return
    lines = []
    for i in range(max(index - 2, 0), min(index + 3, len(transcript.segments))):
        segment = transcript.segments[i]
        text = literal(f"{segment.speaker}: {segment.text}" if segment.speaker else segment.text)
        lines.append(f"**{timestamp(segment.start)} {text}**" if i == index else f"{timestamp(segment.start)} {text}")
    st.info("\n\n".join(lines), icon=":material/schedule:")
    video = views.source_link(job, transcript.segments[index].start)
    if video:
        st.link_button("Watch this moment", video)


def transcript_tab(detail: dict) -> None:
    transcript = detail["transcript"]
    if transcript is None:
        st.info("No transcript yet.")
        return
    seconds = st.query_params.get("t")
    if seconds and seconds.replace(".", "", 1).isdigit():
        moment(detail, float(seconds))
    job_id = detail["job"]["job_id"]
    columns = st.columns(3)
    for column, (suffix, text) in zip(
        columns, [("srt", transcript.to_srt), ("vtt", transcript.to_vtt), ("txt", transcript.to_txt)], strict=True
    ):
        column.download_button(
            f"Download .{suffix}",
            data=text,
            file_name=f"{job_id}.{suffix}",
            mime="text/plain",
            key=f"transcript_{suffix}",
            on_click="ignore",
        )
    query = st.text_input("Search the transcript", key="transcript_search")
    rows = views.transcript_rows(transcript, query)
    st.caption(
        f"{len(rows)} of {len(transcript.segments)} segments · {transcript.word_count:,} words · "
        f"from {literal(transcript.source)}"
    )
    st.dataframe(rows[["time", "speaker", "text"]], hide_index=True, key="transcript_table", height=480)


# --- Insights ----------------------------------------------------------------------------


def insights_tab(detail: dict) -> None:
    pack, job_id = detail["insights"], detail["job"]["job_id"]
    if pack is None:
        st.info("No insight pack yet.")
        return
    st.subheader(literal(pack.title))
    st.markdown(literal(pack.summary))
    st.markdown("#### Themes")
    for theme in pack.themes:
        st.markdown(
            f"**{literal(theme.title)}** — {literal(theme.summary)}"
            + (f"  \n_{literal(', '.join(theme.keywords))}_" if theme.keywords else "")
        )
    st.markdown("#### Quotes")
    for quote in pack.quotes:
        who = f" — {literal(quote.speaker)}" if quote.speaker else ""
        st.markdown(f"“{literal(quote.text)}”{who}")  # the whole quote, wrapped, on a phone too
        links = st.container(horizontal=True, gap="small")
        with links:
            moment_link(job_id, quote.start, "in the transcript")
            video = views.source_link(detail["job"], quote.start)
            if video:
                st.link_button("Watch", video, type="tertiary", icon=":material/play_arrow:")
    st.markdown("#### Outline")
    for item in pack.outline:
        moment_link(job_id, item.start, item.title)
        if item.summary:
            st.caption(literal(item.summary))


# --- Drafts ------------------------------------------------------------------------------


def history(fmt: str, versions: list[dict]) -> None:
    frame = pd.DataFrame(versions)[["version", "source", "author", "created_at", "note"]]
    frame["created_at"] = [when(moment) for moment in frame["created_at"]]
    st.table(
        literal_frame(frame, "author", "note").set_index("version")
    )  # a few rows: a plain table draws at once, no grid to load
    if len(versions) < 2:
        return
    numbers = [v["version"] for v in versions]
    older, newer = st.columns(2)
    a = older.selectbox("Compare version", numbers, index=len(numbers) - 2, key=f"diff_a_{fmt}")
    b = newer.selectbox("with version", numbers, index=len(numbers) - 1, key=f"diff_b_{fmt}")
    by_number = {v["version"]: v["draft"] for v in versions}
    diff = diffs.draft_diff(by_number[a], by_number[b], old_label=f"version {a}", new_label=f"version {b}")
    st.code(diff or "(the two versions are the same)", language="diff")


def drafts_tab(detail: dict) -> None:
    if not detail["drafts"]:
        st.info("No drafts yet.")
        return
    job_id = detail["job"]["job_id"]
    reviews = {review.format: review for review in detail["qa_report"].drafts} if detail["qa_report"] else {}
    formats = list(detail["drafts"])
    tabs = st.tabs([views.format_label(f) for f in formats], key="draft_format", on_change="rerun")
    for fmt, tab in zip(formats, tabs, strict=True):
        with tab:
            if not tab.open:
                continue  # only the open draft is drawn; unsaved text in the others is kept
            versions = detail["drafts"][fmt]
            latest = versions[-1]
            # a regenerated version says with what instruction ("regenerated: shorter")
            made = literal(latest["note"]) if latest["source"] == "regenerated" and latest["note"] else latest["source"]
            st.caption(
                f"Version {latest['version']} · {made} by {literal(latest['author'])} · {when(latest['created_at'])}"
            )
            draft_editor(
                job_id,
                fmt,
                latest,
                where="run",
                review=reviews.get(fmt),
                editable=detail["allowed"][EDIT],
                who_may=detail["needs"][EDIT],
                can_regenerate=detail["can_rerun"],
            )
            st.markdown("##### Versions")
            history(fmt, versions)


# --- QA ----------------------------------------------------------------------------------


def scores_chart(report) -> None:
    labels = [views.format_label(review.format) for review in report.drafts]
    colors = ["#c62828" if review.requires_review else "#2e7d32" for review in report.drafts]
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=[review.score for review in report.drafts],
            marker_color=colors,
            text=[review.score for review in report.drafts],
            textposition="outside",
        )
    )
    figure.add_hline(
        y=report.threshold,
        line_dash="dash",
        annotation_text=f"threshold {report.threshold}",
        annotation_position="bottom left",  # clear of the score labels above the bars
    )
    figure.update_layout(height=300, yaxis_range=[0, 105], margin={"t": 20, "b": 10}, yaxis_title="score")
    st.plotly_chart(figure, key="qa_scores")


def review_details(review) -> None:
    checks = pd.DataFrame(
        [
            {"passed": "✓" if c.passed else "✗", "check": c.name, "severity": c.severity, "reason": c.reason}
            for c in review.checks
        ]
    )
    st.dataframe(checks, hide_index=True, key=f"checks_{review.format}")
    if review.judge:
        st.dataframe(
            pd.DataFrame([j.model_dump() for j in review.judge]), hide_index=True, key=f"judge_{review.format}"
        )
    for fix in review.fixes:
        st.markdown(f"Auto-fix **{fix.check}**: {literal(fix.description)}")
        st.code(
            diffs.unified(fix.before, fix.after, before_label="before", after_label="after") or "(no change)",
            language="diff",
        )


def qa_tab(detail: dict) -> None:
    report = detail["qa_report"]
    if report is None:
        st.info("QA has not run yet.")
        return
    (st.warning if report.requires_review else st.success)(literal(report.summary))
    for flag in report.transcript_flags:
        st.error(literal(f"Transcript: {flag}"))
    scores_chart(report)
    for review in report.drafts:
        verdict = "needs an editor" if review.requires_review else "passed"
        label = views.format_label(review.format)
        with st.expander(f"{label}: score {review.score}, {verdict}", expanded=review.requires_review):
            for flag in review.risk_flags:
                st.error(literal(flag))
            review_details(review)


# --- Downloads ---------------------------------------------------------------------------


def downloads_tab(detail: dict) -> None:
    job_id = detail["job"]["job_id"]
    if detail["has_transcript"]:
        st.download_button(
            "Download the whole bundle (.zip)",
            data=lambda: views.bundle_zip(job_id, caller=caller()),
            file_name=f"{job_id}.zip",
            mime="application/zip",
            type="primary",
            key="bundle",
            on_click="ignore",
        )
    for fmt, versions in detail["drafts"].items():
        chosen = export_choices(fmt)
        for file in views.draft_downloads(versions[-1]["draft"], chosen):
            st.download_button(
                f"{views.format_label(fmt)}: {file['label']} ({file['file_name']}, version {versions[-1]['version']})",
                data=file["data"],
                file_name=f"{job_id}-{file['file_name']}",
                mime=file["mime"],
                key=f"download_draft_{file['file_name']}",
                on_click="ignore",
            )
    st.markdown("##### Artifacts")
    for artifact in detail["artifacts"]:
        suffix = "json" if artifact["format"] == "json" else "txt"
        name = f"{job_id}-{artifact['kind'].replace(':', '-')}.{suffix}"
        provenance = f"{artifact['provider']} / {artifact['model']}" + (
            f" · prompt {artifact['prompt_name']} {artifact['prompt_version']}" if artifact["prompt_name"] else ""
        )
        st.download_button(
            f"{artifact['kind']} ({artifact['chars']:,} chars) — {provenance}",
            data=artifact["content"],
            file_name=name,
            mime="application/json" if suffix == "json" else "text/plain",
            key=f"artifact_{artifact['kind']}",
            on_click="ignore",
        )


def export_choices(fmt: str) -> dict[str, bool]:
    """What the creator chose about a format's exports (numbered posts, timestamps kept)."""
    choices = views.export_choices(fmt)
    if not choices:
        return {}
    row = st.container(horizontal=True, gap="medium")
    row.caption(f"{views.format_label(fmt)}:")
    return {
        c["name"]: row.checkbox(c["label"], value=c["default"], help=c["help"] or None, key=f"export_{fmt}_{c['name']}")
        for c in choices
    }


# --- The page ----------------------------------------------------------------------------

RENDER = dict(
    zip(views.RUN_TABS, [timeline, transcript_tab, insights_tab, drafts_tab, qa_tab, downloads_tab], strict=True)
)


def first_tab(head: dict) -> str:
    """What a person opens a run for: the drafts once there are drafts to read, and while some
    are written again; how the run went while it runs or when it stopped short."""
    status = JobStatus(head["job"]["status"])
    done = status in (JobStatus.ANALYTICS_LOGGED, JobStatus.REQUIRES_MANUAL_REVIEW)
    return "Drafts" if (done or head["regenerating"]) and head["has_drafts"] else "Timeline"


def page(job_id: str) -> None:
    """The heading from a small read first; the open tab's data after it is on screen."""
    try:
        head = views.run_header(job_id, caller=caller())
    except NotFound as exc:
        st.error(literal(str(exc)))
        st.page_link(RUNS_PAGE, label="Go to Runs", icon=":material/list:")
        return
    header(head)
    show_flash()
    if JobStatus(head["job"]["status"]).active:
        live_status(job_id, head["job"]["status"])
    actions(head)
    tabs = st.tabs(list(views.RUN_TABS), key="tab", bind="query-params", default=first_tab(head))
    for tab, (name, render) in zip(tabs, RENDER.items(), strict=True):
        with tab:
            if tab.open:  # only the open tab is read and drawn
                render({**head, **views.run_tab(job_id, name, caller=caller())})


job = st.query_params.get("job")
if job:
    page(job)
else:
    choose_job()
