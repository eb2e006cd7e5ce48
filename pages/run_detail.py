"""Run detail: one job in full — step timeline and logs, transcript, insight pack, the drafts
(editable, with versions and diffs), the QA report, re-run from a step, and downloads.

The job comes from the ``job`` query parameter; ``tab`` picks the tab and ``t`` (seconds) a
moment of the transcript, so a quote links straight to where it was said."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from pages.common import RUNS_PAGE, caller, clock, draft_editor, flash, show_flash, when
from pipeline import api, defaults, diffs, views
from pipeline.errors import ClipInsightError, NotFound
from pipeline.export import draft_markdown
from pipeline.models import DraftFormat
from pipeline.stages import JobStatus
from pipeline.transcript import timestamp

TABS = ["Timeline", "Transcript", "Insights", "Drafts", "QA", "Downloads"]
STATUS_COLORS = {
    "done": "#2e7d32",
    "running": "#1565c0",
    "queued": "#90a4ae",
    "scheduled": "#b0bec5",
    "failed": "#c62828",
    "lost": "#ef6c00",
    "cancelled": "#757575",
}


def moment_link(job_id: str, seconds: float, label: str) -> None:
    """A link to the transcript at that moment (and to the video there, when it is on YouTube)."""
    st.page_link(
        "pages/run_detail.py", label=label, query_params={"job": job_id, "tab": "Transcript", "t": str(int(seconds))}
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
    st.title(job["title"] or job["source"])
    st.caption(
        f"{job['job_id']} · {job['source_kind']}: {job['source']} · workspace {job['workspace']} · "
        f"submitted {when(job['created_at'])}"
    )
    cost = sum(row["cost_usd"] for row in detail["usage"]) if detail["usage"] else None
    columns = st.columns([3, 1, 1, 1])
    columns[0].metric("Status", job["status"])
    columns[1].metric("Length", clock(job["duration_s"]))
    columns[2].metric("QA score", job["qa_score"] if job["qa_score"] is not None else "—")
    columns[3].metric("Cost", f"${cost:.4f}" if cost is not None else "—")
    if job["status_reason"]:
        (st.error if job["error_code"] else st.caption)(job["status_reason"])
    source_details(job["metadata"])


def source_details(metadata: dict) -> None:
    """What the source said about itself at ingest (channel, upload date, thumbnail), when it did."""
    day = metadata.get("upload_date") or ""
    if len(day) == 8 and day.isdigit():  # yt-dlp's YYYYMMDD
        day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    facts = [f"channel {metadata['channel']}" if metadata.get("channel") else "", f"uploaded {day}" if day else ""]
    link = f"[Watch the source]({metadata['webpage_url']})" if metadata.get("webpage_url") else ""
    line = " · ".join(part for part in [*facts, link] if part)
    if metadata.get("thumbnail_url"):
        st.image(metadata["thumbnail_url"], width=240)
    if line:
        st.caption(line)


@st.fragment(run_every=defaults.UI_REFRESH_S)
def live_status(job_id: str, shown_status: str) -> None:
    """While the job runs: its progress, and a full refresh when its status moves on."""
    now = views.job_status(job_id, caller=caller())
    if now["status"] != shown_status:
        st.rerun()
    st.progress(now["progress"] or 0.0, text=f"{now['status']}: {now['now'] or 'waiting for a worker'}")


def act(action, done: str, *args) -> None:
    try:
        status = action(*args, caller=caller())
    except ClipInsightError as exc:
        st.error(str(exc))
        return
    flash(f"{done}; the job is now {status}.")
    st.rerun()


def actions(detail: dict) -> None:
    job_id = detail["job"]["job_id"]
    stage_column, rerun, cancel, retry = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    stage = stage_column.selectbox(
        "Step",
        detail["stages"],
        index=detail["stages"].index(detail["rerun_default"]),
        key="rerun_stage",
        help="Re-running a step regenerates it and everything after it; what came before is reused.",
    )
    if rerun.button("Re-run from this step", disabled=not detail["can_rerun"], key="rerun"):
        act(api.rerun, f"Re-running from {stage}", job_id, stage)
    if cancel.button("Cancel", disabled=not detail["can_cancel"], key="cancel"):
        act(api.cancel, "Cancelled", job_id)
    if retry.button("Retry", disabled=not detail["can_retry"], key="retry"):
        act(api.retry, "Retrying from the failed step", job_id)
    if detail["job"]["status"] == JobStatus.NEEDS_USER_INPUT.value:
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
        error_slot.error(str(exc))
        return
    flash(f"Transcript {upload.name} provided; the job is now {status}.")
    st.rerun()


# --- Timeline ----------------------------------------------------------------------------


def attempts_frame(attempts: list[dict]) -> pd.DataFrame:
    now = pd.Timestamp.now("UTC").tz_localize(None)
    frame = pd.DataFrame(attempts)
    frame["start"] = frame["started_at"].fillna(frame["queued_at"])
    frame["end"] = frame["finished_at"].fillna(now)
    frame["run"] = frame["run_id"].str.rsplit(".", n=1).str[-1]
    frame["error"] = frame["error_code"].fillna("") + " " + frame["error_message"].fillna("")
    return frame


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
    figure.update_layout(height=80 + 32 * frame["step"].nunique(), margin={"t": 10, "b": 10}, xaxis_title="UTC")
    st.plotly_chart(figure, key="timeline")
    failed = frame[frame["status"].isin(["failed", "lost"])]
    for row in failed.itertuples():
        st.warning(f"{row.step} attempt {row.attempt} ({row.run}): {row.error.strip()}")
    logs(detail["logs"])
    st.subheader("Status changes")
    st.dataframe(
        pd.DataFrame(detail["audit"])[["changed_at", "from_status", "to_status", "move", "actor", "reason"]],
        hide_index=True,
        key="audit",
    )


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
    st.dataframe(shown, hide_index=True, key="log_table")


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
        text = f"{segment.speaker}: {segment.text}" if segment.speaker else segment.text
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
        f"from {transcript.source}"
    )
    st.dataframe(rows[["time", "speaker", "text"]], hide_index=True, key="transcript_table", height=480)


# --- Insights ----------------------------------------------------------------------------


def insights_tab(detail: dict) -> None:
    pack, job_id = detail["insights"], detail["job"]["job_id"]
    if pack is None:
        st.info("No insight pack yet.")
        return
    st.subheader(pack.title)
    st.write(pack.summary)
    st.markdown("#### Themes")
    for theme in pack.themes:
        st.markdown(
            f"**{theme.title}** — {theme.summary}" + (f"  \n_{', '.join(theme.keywords)}_" if theme.keywords else "")
        )
    st.markdown("#### Quotes")
    for quote in pack.quotes:
        who = f"{quote.speaker}: " if quote.speaker else ""
        moment_link(job_id, quote.start, f"{timestamp(quote.start)} — {who}“{quote.text}”")
        video = views.source_link(detail["job"], quote.start)
        if video:
            st.markdown(f"[Watch at {timestamp(quote.start)}]({video})")
    st.markdown("#### Outline")
    for item in pack.outline:
        moment_link(job_id, item.start, f"{timestamp(item.start)} — {item.title}")
        if item.summary:
            st.caption(item.summary)


# --- Drafts ------------------------------------------------------------------------------


def history(fmt: str, versions: list[dict]) -> None:
    frame = pd.DataFrame(versions)[["version", "source", "author", "created_at", "note"]]
    frame["created_at"] = frame["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S UTC")
    st.table(frame.set_index("version"))  # a few rows: a plain table draws at once, no grid to load
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
    formats = list(detail["drafts"])
    tabs = st.tabs([DraftFormat(f).label for f in formats], key="draft_format", on_change="rerun")
    for fmt, tab in zip(formats, tabs, strict=True):
        with tab:
            if not tab.open:
                continue  # only the open draft is drawn; unsaved text in the others is kept
            versions = detail["drafts"][fmt]
            latest = versions[-1]
            st.caption(
                f"Version {latest['version']} · {latest['source']} by {latest['author']} · {when(latest['created_at'])}"
            )
            draft_editor(job_id, fmt, latest, where="run")
            st.markdown("##### Versions")
            history(fmt, versions)


# --- QA ----------------------------------------------------------------------------------


def scores_chart(report) -> None:
    labels = [review.format.label for review in report.drafts]
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
    figure.add_hline(y=report.threshold, line_dash="dash", annotation_text=f"threshold {report.threshold}")
    figure.update_layout(height=300, yaxis_range=[0, 105], margin={"t": 20, "b": 10}, yaxis_title="score")
    st.plotly_chart(figure, key="qa_scores")


def review_details(review) -> None:
    checks = pd.DataFrame(
        [
            {"passed": "✓" if c.passed else "✗", "check": c.name, "severity": c.severity, "reason": c.reason}
            for c in review.checks
        ]
    )
    st.dataframe(checks, hide_index=True, key=f"checks_{review.format.value}")
    if review.judge:
        st.dataframe(
            pd.DataFrame([j.model_dump() for j in review.judge]), hide_index=True, key=f"judge_{review.format.value}"
        )
    for fix in review.fixes:
        st.markdown(f"Auto-fix **{fix.check}**: {fix.description}")
        st.code(
            diffs.unified(fix.before, fix.after, before_label="before", after_label="after") or "(no change)",
            language="diff",
        )


def qa_tab(detail: dict) -> None:
    report = detail["qa_report"]
    if report is None:
        st.info("QA has not run yet.")
        return
    (st.warning if report.requires_review else st.success)(report.summary)
    scores_chart(report)
    for review in report.drafts:
        verdict = "needs an editor" if review.requires_review else "passed"
        with st.expander(f"{review.format.label}: score {review.score}, {verdict}", expanded=review.requires_review):
            for flag in review.risk_flags:
                st.error(flag)
            review_details(review)


# --- Downloads ---------------------------------------------------------------------------


def downloads_tab(detail: dict) -> None:
    job_id = detail["job"]["job_id"]
    if detail["transcript"] is not None:
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
        st.download_button(
            f"{DraftFormat(fmt).label} (.md, version {versions[-1]['version']})",
            data=draft_markdown(versions[-1]["draft"]),
            file_name=f"{job_id}-{fmt}.md",
            mime="text/markdown",
            key=f"download_draft_{fmt}",
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


# --- The page ----------------------------------------------------------------------------

RENDER = [timeline, transcript_tab, insights_tab, drafts_tab, qa_tab, downloads_tab]


def first_tab(detail: dict) -> str:
    """What a person opens a run for: the drafts once there are drafts to read; how the run went
    while it runs or when it stopped short."""
    status = JobStatus(detail["job"]["status"])
    done = status in (JobStatus.ANALYTICS_LOGGED, JobStatus.REQUIRES_MANUAL_REVIEW)
    return "Drafts" if done and detail["drafts"] else "Timeline"


def page(job_id: str) -> None:
    try:
        detail = views.run_detail(job_id, caller=caller())
    except NotFound as exc:
        st.error(str(exc))
        st.page_link(RUNS_PAGE, label="Go to Runs", icon=":material/list:")
        return
    header(detail)
    show_flash()
    if JobStatus(detail["job"]["status"]).active:
        live_status(job_id, detail["job"]["status"])
    actions(detail)
    tabs = st.tabs(TABS, key="tab", bind="query-params", default=first_tab(detail))
    for tab, render in zip(tabs, RENDER, strict=True):
        with tab:
            if tab.open:
                render(detail)


job = st.query_params.get("job")
if job:
    page(job)
else:
    choose_job()
