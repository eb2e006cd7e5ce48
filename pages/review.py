"""Review: the drafts QA flagged, longest-waiting first. For each job: the flags, every flagged
draft beside the transcript lines behind the flags, inline edits, and the decision — approve
(the job goes on to delivery) or reject with a reason. Every decision lands in the audit trail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import RUN_PAGE, caller, draft_editor, flash, show_flash, when, workspace
from pipeline import api, defaults, views
from pipeline.errors import ClipInsightError
from pipeline.models import DraftFormat


def queue_table(waiting: list[dict]) -> None:
    frame = pd.DataFrame(waiting, columns=["job_id", "title", "qa_score", "waiting_since", "source"])
    st.dataframe(
        frame,
        hide_index=True,
        key="review_queue",
        column_config={
            "job_id": "Job",
            "title": "Title",
            "qa_score": "QA score",
            "waiting_since": st.column_config.DatetimeColumn("Waiting since (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "source": "Source",
        },
    )


def evidence(job_id: str, found: list[dict]) -> None:
    st.markdown("**Transcript evidence**")
    if not found:
        st.caption("No transcript line matches what QA flagged.")
    for line in found:
        who = f"{line['speaker']}: " if line["speaker"] else ""
        st.markdown(f"**{line['time']}** {who}{line['text']}")
        st.page_link(
            RUN_PAGE,
            label=f"In the transcript at {line['time']}"
            + (f" (“{line['matched']}”)" if len(line["matched"]) <= 24 else ""),
            query_params={"job": job_id, "tab": "Transcript", "t": str(int(line["start_s"]))},
            icon=":material/schedule:",
        )


def flagged_draft(job_id: str, item: dict) -> None:
    review = item["review"]
    label = DraftFormat(item["format"]).label
    st.subheader(f"{label}: score {review.score}")
    for flag in review.risk_flags:
        st.error(flag)
    for check in review.checks:
        if not check.passed and check.severity != "risk":
            st.warning(f"{check.name}: {check.reason}")
    left, right = st.columns([3, 2])
    with left:
        draft_editor(job_id, item["format"], item["latest"], where="review")
    with right:
        evidence(job_id, item["evidence"])


def decide(job_id: str) -> None:
    st.subheader("Decision")
    approve_column, reject_column = st.columns(2)
    with approve_column.form("approve"):
        note = st.text_input("Note (optional)", key="approve_note")
        if st.form_submit_button("Approve: continue to delivery", type="primary"):
            run(api.approve, job_id, "Approved", note=note.strip() or None)
    with reject_column.form("reject"):
        reason = st.text_input("Reason (required)", key="reject_reason")
        error_slot = st.empty()
        if st.form_submit_button("Reject"):
            if not reason.strip():
                error_slot.error("Say why the drafts are rejected; the creator sees the reason.")
            else:
                run(api.reject, job_id, "Rejected", reason=reason.strip())


def run(action, job_id: str, done: str, **kwargs) -> None:
    try:
        status = action(job_id, caller=caller(), **kwargs)
    except ClipInsightError as exc:
        st.error(str(exc))
        return
    st.session_state.pop("review_job", None)
    flash(f"{done} {job_id} as {caller().name}; the job is now {status}.")
    st.rerun()


def audit(item: dict) -> None:
    with st.expander("Audit trail of this job"):
        st.dataframe(
            pd.DataFrame(item["audit"])[["changed_at", "from_status", "to_status", "move", "actor", "reason"]],
            hide_index=True,
            key="review_audit",
        )


def item_section(item: dict) -> None:
    job = item["job"]
    st.header(job["title"] or job["job_id"])
    st.caption(f"{job['job_id']} · {job['source']} · submitted {when(job['created_at'])}")
    st.page_link(RUN_PAGE, label="Open the run", query_params={"job": job["job_id"]}, icon=":material/open_in_new:")
    if not item["flagged"]:
        st.warning("QA flagged this job but no draft is marked for review; see the QA tab of the run.")
    for flagged in item["flagged"]:
        flagged_draft(job["job_id"], flagged)
    decide(job["job_id"])
    audit(item)


@st.fragment(run_every=defaults.UI_REFRESH_S)
def recent_decisions() -> None:
    """Decisions with the job's status now, so an approval can be seen reaching delivery."""
    recent = views.recent_decisions(workspace(), caller=caller())
    st.subheader("Recent decisions")
    if not recent:
        st.caption("No decision yet.")
        return
    frame = pd.DataFrame(recent)[["created_at", "job_id", "title", "decision", "editor", "reason", "status"]]
    frame["created_at"] = frame["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    st.table(frame.rename(columns={"created_at": "when (UTC)", "status": "status now"}).set_index("when (UTC)"))


st.title("Review")
show_flash()
data = views.review(workspace(), st.session_state.get("review_job"), caller=caller())
if data["queue"]:
    st.caption(f"{len(data['queue'])} job(s) wait for an editor, the longest-waiting first.")
    queue_table(data["queue"])
    labels = {
        row["job_id"]: f"{row['job_id']} · {row['title'] or row['source']} · waiting since {when(row['waiting_since'])}"
        for row in data["queue"]
    }
    st.session_state["review_job"] = data["item"]["job"]["job_id"]
    st.selectbox("Job to review", list(labels), format_func=labels.get, key="review_job")
    item_section(data["item"])
else:
    st.success("Nothing waits for review.")
recent_decisions()
