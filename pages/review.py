"""Review: the drafts QA flagged, longest-waiting first. For each job: the flags, every flagged
draft beside the transcript lines behind the flags, inline edits, and the decision — approve
(the job goes on to delivery) or reject with a reason. Every decision lands in the audit trail."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from pipeline import api, defaults, views, wording
from pipeline.access import Action
from pipeline.errors import ClipInsightError
from workbench import shell
from workbench.common import (
    caller,
    editor,
    flash,
    local_times,
    or_stop,
    show_flash,
    status_changes,
    when,
    workspace,
    zone_name,
)
from workbench.draft_editor import draft_editor
from workbench.shell import RUN_PAGE
from workbench.text import highlighted, literal, literal_frame

shell.enter()  # first: the app's navigation, even when Streamlit runs this file directly


def queue_table(waiting: list[dict]) -> None:
    frame = local_times(
        pd.DataFrame(waiting, columns=["title", "qa_score", "waiting_since", "source", "job_id"]), "waiting_since"
    )
    st.dataframe(
        frame,
        hide_index=True,
        key="review_queue",
        column_config={
            "job_id": "Job",
            "title": "Title",
            "qa_score": "QA score",
            "waiting_since": st.column_config.DatetimeColumn(
                "Waiting since", format="MMM D, HH:mm", help=f"In your time zone ({zone_name()})"
            ),
            "source": "Source",
        },
    )


def passage(job_id: str, lines: list[dict]) -> None:
    """The transcript lines behind a flag, as text, with the flagged words marked."""
    shown = "".join(
        f'<p style="margin:0 0 0.25rem 0"><strong>{line["time"]}</strong> '
        + (f"{html.escape(line['speaker'])}: " if line["speaker"] else "")
        + highlighted(line["text"], line["spans"])
        + "</p>"
        for line in lines
    )
    st.html(f'<div class="evidence">{shown}</div>')
    first = lines[0]
    st.page_link(
        RUN_PAGE,
        label=f"Open the transcript at {first['time']}",
        query_params={"job": job_id, "tab": "Transcript", "t": str(int(first["start_s"]))},
        icon=":material/schedule:",
    )


def flag_card(job_id: str, entry: dict) -> None:
    with st.container(border=True):
        (st.error if entry["severity"] == "risk" else st.warning)(literal(entry["flag"]))
        if entry["passage"]:
            passage(job_id, entry["passage"])
        elif entry["check"] in ("unverifiable_numbers", "quotes_grounded"):
            st.caption("The transcript never says this.")
        else:
            st.caption("About the draft itself: no transcript passage is behind it.")


def flagged_draft(job_id: str, item: dict, allowed: dict, needs: dict) -> None:
    review = item["review"]
    st.subheader(f"{views.format_label(item['format'])} · QA score {review.score}")
    flags, editing = st.columns([2, 3])  # what was flagged first: also on a phone, where columns stack
    with flags:
        st.markdown("**What QA flagged, and where it was said**")
        for entry in item["evidence"]:
            flag_card(job_id, entry)
    with editing:
        edit = Action.EDIT_DRAFT.value
        draft_editor(
            job_id,
            item["format"],
            item["latest"],
            where="review",
            review=review,
            editable=allowed[edit],
            who_may=needs[edit],
            side_by_side=False,
        )


def decide(job_id: str, allowed: dict, needs: dict) -> None:
    st.subheader("Decision")
    review = Action.REVIEW.value
    if not allowed[review]:
        st.caption(f"Only {needs[review]} may approve or reject drafts.")
    approve_column, reject_column = st.columns(2)
    with approve_column.form("approve"):
        note = st.text_input("Note (optional)", key="approve_note")
        if st.form_submit_button("Approve: continue to delivery", type="primary", disabled=not allowed[review]):
            run(api.approve, job_id, "Approved", note=note.strip() or None)
    with reject_column.form("reject"):
        reason = st.text_input("Reason (required)", key="reject_reason")
        error_slot = st.empty()
        if st.form_submit_button("Reject", disabled=not allowed[review]):
            if not reason.strip():
                error_slot.error("Say why the drafts are rejected; the creator sees the reason.")
            else:
                run(api.reject, job_id, "Rejected", reason=reason.strip())


def run(action, job_id: str, done: str, **kwargs) -> None:
    try:
        status = action(job_id, caller=caller(), **kwargs)
    except ClipInsightError as exc:
        st.error(literal(str(exc)))
        return
    st.session_state.pop("review_job", None)
    flash(f"{done} {job_id} as {literal(editor())}; the job is now {wording.status_words(status).label.lower()}.")
    st.rerun()


def audit(item: dict) -> None:
    with st.expander("Audit trail of this job"):
        status_changes(item["audit"], key="review_audit")


def item_section(item: dict) -> None:
    job = item["job"]
    st.header(literal(job["title"] or job["job_id"]))
    st.caption(literal(f"{job['source']} · submitted {when(job['created_at'])} · {job['job_id']}"))
    st.page_link(RUN_PAGE, label="Open the run", query_params={"job": job["job_id"]}, icon=":material/open_in_new:")
    if item["transcript_evidence"]:
        st.markdown("**What QA found in the transcript**")
        for entry in item["transcript_evidence"]:
            flag_card(job["job_id"], entry)
    if not item["flagged"]:
        st.warning("No draft repeats what QA found; read the drafts on the run page before approving.")
    for flagged in item["flagged"]:
        flagged_draft(job["job_id"], flagged, item["allowed"], item["needs"])
    decide(job["job_id"], item["allowed"], item["needs"])
    audit(item)


@st.fragment(run_every=defaults.UI_REFRESH_S)
def wait_for_work() -> None:
    """While nothing waits, the page shows a job as soon as QA sends one."""
    if views.review_waiting(workspace(), caller=caller()):
        st.rerun()


@st.fragment(run_every=defaults.UI_REFRESH_S)
def recent_decisions() -> None:
    """Decisions with the job's status now, so an approval can be seen reaching delivery."""
    recent = views.recent_decisions(workspace(), caller=caller())
    st.subheader("Recent decisions")
    if not recent:
        st.caption("No decision yet.")
        return
    frame = pd.DataFrame(recent)[["created_at", "job_id", "title", "decision", "editor", "reason", "status"]]
    frame["created_at"] = [when(moment) for moment in frame["created_at"]]
    frame["status"] = [wording.status_text(status) for status in frame["status"]]
    shown = literal_frame(frame, "title", "editor", "reason").rename(
        columns={"created_at": "when", "status": "status now"}
    )
    st.table(shown.set_index("when"))


st.title("Review")
show_flash()
data = or_stop(views.review, workspace(), st.session_state.get("review_job"), caller=caller())
if data["queue"]:
    count = len(data["queue"])
    st.caption(f"{count} job{' waits' if count == 1 else 's wait'} for an editor, the longest-waiting first.")
    queue_table(data["queue"])
    labels = {
        row["job_id"]: f"{row['title'] or row['source']} · waiting since {when(row['waiting_since'])} · {row['job_id']}"
        for row in data["queue"]
    }
    st.session_state["review_job"] = data["item"]["job"]["job_id"]
    st.selectbox("Job to review", list(labels), format_func=labels.get, key="review_job")
    item_section(data["item"])
else:
    st.success("Nothing waits for review.")
    wait_for_work()
recent_decisions()
