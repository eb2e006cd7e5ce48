"""Runs: every job, newest first, filtered by status and text, a page at a time. A click on a
row opens the job. The table refreshes itself while the page is open; running jobs show how far
they are. What a job can do (cancel, retry, re-run) is on its own page."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from pipeline import defaults, views, wording
from workbench import shell
from workbench.common import caller, local_times, show_flash, workspace, zone_name
from workbench.shell import RUN_PAGE
from workbench.text import literal

shell.enter()  # first: the app's navigation, even when Streamlit runs this file directly


def columns() -> dict:
    """The table's columns, in order: what a creator looks for first (status, QA score, title)
    leads, so it all shows without scrolling on a laptop and the first three on a phone."""
    return {
        "status_text": st.column_config.TextColumn("Status", width=150, help=wording.status_legend()),
        "qa_score": st.column_config.NumberColumn("QA", width=45, help="The lowest QA score of the job's drafts"),
        "title": st.column_config.TextColumn("Title", width=210),
        "why": st.column_config.TextColumn("Why", width=230, help="What QA flagged, or why the job stopped"),
        "progress": st.column_config.ProgressColumn(
            "Progress", min_value=0.0, max_value=1.0, format="percent", width=80
        ),
        "length": st.column_config.TextColumn("Length", width=60),
        "created_at": st.column_config.DatetimeColumn(
            "Submitted", format="MMM D, HH:mm", width=100, help=f"In your time zone ({zone_name()})"
        ),
    }


def first_page() -> None:
    st.session_state["runs_page"] = 0


def filters() -> tuple[list[str], str]:
    left, right = st.columns([2, 1])
    labels = left.multiselect(
        "Status", wording.status_labels(), key="runs_status", on_change=first_page, placeholder="All statuses"
    )
    text = right.text_input("Search", placeholder="title, link, file or job id", key="runs_text", on_change=first_page)
    return wording.statuses_labelled(labels), text


def go_to(page: int) -> None:
    st.session_state["runs_page"] = page


def pager(data: dict) -> None:
    row = st.container(horizontal=True, vertical_alignment="center")  # stays one row on a phone
    row.button("← Newer", disabled=data["page"] == 0, key="runs_newer", on_click=go_to, args=(data["page"] - 1,))
    row.caption(
        f"Page {data['page'] + 1} of {data['pages']} · {data['total']:,} job{'s' if data['total'] != 1 else ''}"
    )
    row.button(
        "Older →",
        disabled=data["page"] >= data["pages"] - 1,
        key="runs_older",
        on_click=go_to,
        args=(data["page"] + 1,),
    )


def counts_line(counts: dict[str, int]) -> str:
    by_label: Counter[str] = Counter()
    for status, n in counts.items():
        words = wording.status_words(status)
        by_label[f"{words.symbol} {words.label}"] += n
    return " · ".join(f"{label} {n:,}" for label, n in by_label.most_common())


def running(rows) -> None:
    """A progress bar per job on this page that is still on its way."""
    active = rows[rows["progress"].notna() & (rows["progress"] < 1.0)]
    for row in active.itertuples():
        label = wording.status_words(row.status).label
        st.progress(
            float(row.progress),
            text=f"{literal(row.title or row.source)} · {label}" + (f" · {row.now}" if row.now else ""),
        )


def table_key() -> str:
    """A fresh table after each open, so coming back to Runs does not open the same job again."""
    return f"runs_table_{st.session_state.get('runs_opened', 0)}"


def open_clicked(event, rows) -> None:
    """A click on any cell of a row (or on its checkbox) opens that job."""
    picked = [*event.selection.rows, *(row for row, _ in event.selection.cells)] if event else []
    if picked and picked[0] < len(rows):
        st.session_state["runs_opened"] = st.session_state.get("runs_opened", 0) + 1
        st.switch_page(RUN_PAGE, query_params={"job": rows.iloc[picked[0]]["job_id"]})


@st.fragment(run_every=defaults.UI_REFRESH_S)
def jobs(statuses: list[str], text: str) -> None:
    data = views.runs(workspace(), statuses, text, page=st.session_state.get("runs_page", 0), caller=caller())
    st.session_state["runs_page"] = data["page"]
    st.caption(counts_line(data["counts"]) or "No jobs yet: submit one on the Submit page.")
    rows = data["rows"]
    rows["title"] = rows["title"].fillna(rows["source"])
    running(rows)
    shown = local_times(rows, "created_at")
    shown.loc[shown["progress"] >= 1.0, "progress"] = None  # a bar only while a job is on its way
    event = st.dataframe(
        shown,
        key=table_key(),
        on_select="rerun",
        selection_mode=["single-row", "single-cell"],
        hide_index=True,
        column_config=columns(),
        column_order=list(columns()),
        width="stretch",
        placeholder="—",
    )
    open_clicked(event, rows)
    pager(data)


st.title("Runs")
show_flash()
st.caption("Click a job to open it.")
jobs(*filters())
