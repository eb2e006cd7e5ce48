"""Runs: every job, newest first, filtered by status and text, a page at a time. The table
refreshes itself while the page is open; running jobs show how far they are."""

from __future__ import annotations

import streamlit as st

from pages.common import RUN_PAGE, caller, show_flash, workspace
from pipeline import api, defaults, views
from pipeline.errors import ClipInsightError
from pipeline.stages import JobStatus

COLUMNS = {
    "job_id": st.column_config.TextColumn("Job"),
    "title": st.column_config.TextColumn("Title"),
    "status": st.column_config.TextColumn("Status"),
    "progress": st.column_config.ProgressColumn("Progress", min_value=0.0, max_value=1.0, format="percent"),
    "source": st.column_config.TextColumn("Source"),
    "length_s": st.column_config.NumberColumn("Length (s)", format="%.0f"),
    "took_s": st.column_config.NumberColumn("Took (s)", format="%.1f"),
    "created_at": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "qa_score": st.column_config.NumberColumn("QA score"),
    "now": st.column_config.TextColumn("Running now"),
    "status_reason": st.column_config.TextColumn("Why"),
}


def first_page() -> None:
    st.session_state["runs_page"] = 0


def filters() -> tuple[list[str], str]:
    left, right = st.columns([2, 1])
    statuses = left.multiselect(
        "Status", [s.value for s in JobStatus], key="runs_status", on_change=first_page, placeholder="All statuses"
    )
    text = right.text_input("Search", placeholder="id, title or source", key="runs_text", on_change=first_page)
    return statuses, text


def remember_selection() -> None:
    """A row picked in the table becomes the job the actions below act on."""
    rows = st.session_state["runs_table"].selection.rows
    visible = st.session_state.get("runs_visible", [])
    if rows and rows[0] < len(visible):
        st.session_state["runs_job"] = visible[rows[0]]


def go_to(page: int) -> None:
    st.session_state["runs_page"] = page


def pager(data: dict) -> None:
    newer, where, older = st.columns([1, 3, 1])
    newer.button("← Newer", disabled=data["page"] == 0, key="runs_newer", on_click=go_to, args=(data["page"] - 1,))
    where.caption(f"Page {data['page'] + 1} of {data['pages']} · {data['total']:,} jobs")
    older.button(
        "Older →",
        disabled=data["page"] >= data["pages"] - 1,
        key="runs_older",
        on_click=go_to,
        args=(data["page"] + 1,),
    )


def act(action, job_id: str, done: str) -> None:
    """Run before the table is drawn again (a button callback), so the table shows the result."""
    try:
        status = action(job_id, caller=caller())
    except ClipInsightError as exc:
        st.session_state["runs_error"] = str(exc)
        return
    st.session_state.pop("runs_error", None)
    st.toast(f"{done} {job_id}: now {status}")


def chosen_line(row) -> None:
    """The picked job's status, drawn afresh on every refresh (an option label is not)."""
    reason = f": {row.status_reason}" if isinstance(row.status_reason, str) and row.status_reason else ""
    st.markdown(f"**{row.job_id}** ({row.title or row.source}) is **{row.status}**{reason[:300]}")


def actions(rows) -> None:
    by_id = {row.job_id: row for row in rows.itertuples()}
    chosen = st.session_state.get("runs_job")
    options = list(by_id) + ([chosen] if chosen and chosen not in by_id else [])
    pick, open_, cancel, retry = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
    job_id = pick.selectbox(
        "Job",
        options,
        index=None,
        format_func=lambda job: f"{job} · {by_id[job].source}" if job in by_id else job,
        key="runs_job",
        placeholder="Pick a row in the table, or choose here",
    )
    row = by_id.get(job_id)
    status = JobStatus(row.status) if row else None
    if open_.button("Open run", disabled=job_id is None, key="runs_open"):
        st.switch_page(RUN_PAGE, query_params={"job": job_id})
    cancel.button(
        "Cancel",
        disabled=status is None or status.terminal,
        key="runs_cancel",
        on_click=act,
        args=(api.cancel, job_id, "Cancelled"),
    )
    retry.button(
        "Retry",
        disabled=status not in views.RETRYABLE_STATUSES,
        key="runs_retry",
        on_click=act,
        args=(api.retry, job_id, "Retrying"),
    )
    if row:
        chosen_line(row)


def running(rows) -> None:
    """A progress bar per job on this page that is still on its way."""
    active = rows[rows["progress"].notna() & (rows["progress"] < 1.0)]
    for row in active.itertuples():
        st.progress(
            float(row.progress),
            text=f"{row.job_id} · {row.title or row.source} · {row.status}" + (f" · {row.now}" if row.now else ""),
        )


@st.fragment(run_every=defaults.UI_REFRESH_S)
def jobs(statuses: list[str], text: str) -> None:
    data = views.runs(workspace(), statuses, text, page=st.session_state.get("runs_page", 0), caller=caller())
    st.session_state["runs_page"] = data["page"]
    counts = " · ".join(f"{status} {n:,}" for status, n in sorted(data["counts"].items()))
    st.caption(counts or "No jobs yet: submit one on the Submit page.")
    rows = data["rows"]
    st.session_state["runs_visible"] = list(rows["job_id"])
    running(rows)
    st.dataframe(
        rows,
        key="runs_table",
        on_select=remember_selection,
        selection_mode="single-row",
        hide_index=True,
        column_config=COLUMNS,
        column_order=list(COLUMNS),
        width="stretch",
    )
    pager(data)
    if "runs_error" in st.session_state:
        st.error(st.session_state["runs_error"])
    actions(rows)


st.title("Runs")
show_flash()
jobs(*filters())
