"""Members (owners): who belongs to the workspace with which role, invitations by email, and the
attempts ClipInsight refused here. What each role may do is ``pipeline.access.RULES``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipeline import people
from pipeline.access import Role
from pipeline.errors import ClipInsightError
from workbench import shell
from workbench.common import caller, flash, or_stop, show_flash, when, workspace

shell.enter()  # first: the app's navigation, even when Streamlit runs this file directly

ROLES = [role.value for role in reversed(Role)]  # owner first


def attempt(action, done: str, *args) -> None:
    try:
        result = action(workspace(), *args, caller=caller())
    except ClipInsightError as exc:
        st.error(str(exc))
        return
    flash(done.format(result=result) if isinstance(result, dict) else done)
    st.rerun()


def members_table(found: dict) -> None:
    frame = pd.DataFrame(found["members"], columns=["email", "role", "added_by", "created_at", "last_login_at"])
    st.dataframe(
        frame,
        hide_index=True,
        key="members_table",
        column_config={
            "email": "Email",
            "role": "Role",
            "added_by": "Added by",
            "created_at": st.column_config.DatetimeColumn("Member since (UTC)", format="YYYY-MM-DD HH:mm"),
            "last_login_at": st.column_config.DatetimeColumn("Last sign-in (UTC)", format="YYYY-MM-DD HH:mm"),
        },
    )


def invite_form() -> None:
    with st.form("invite", clear_on_submit=True):
        email_column, role_column = st.columns([3, 1])
        email = email_column.text_input("Email", key="invite_email", placeholder="name@example.com")
        role = role_column.selectbox("Role", ROLES, index=ROLES.index(Role.CREATOR.value), key="invite_role")
        if st.form_submit_button("Invite", type="primary"):
            attempt(people.invite, "{result[email]}: {result[status]} as {result[role]}.", email, role)


def change_member(found: dict) -> None:
    emails = [member["email"] for member in found["members"]]
    if not emails:
        return
    who_column, role_column, change_column, remove_column = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
    email = who_column.selectbox("Member", emails, key="member_email")
    role = role_column.selectbox("New role", ROLES, key="member_role")
    if change_column.button("Change role", key="member_change"):
        attempt(people.set_role, f"{email} is now {role}.", email, role)
    if remove_column.button("Remove", key="member_remove"):
        attempt(people.remove_member, f"{email} was removed.", email)


def invitations(found: dict) -> None:
    st.subheader("Invitations")
    if not found["invitations"]:
        st.caption("No pending invitation: an invited email joins at its first sign-in.")
        return
    for invitation in found["invitations"]:
        line, cancel = st.columns([5, 1], vertical_alignment="center")
        line.markdown(
            f"**{invitation['email']}** as {invitation['role']}, invited by {invitation['invited_by']} "
            f"at {when(invitation['created_at'])}"
        )
        if cancel.button("Cancel", key=f"cancel_invite:{invitation['email']}"):
            attempt(people.cancel_invitation, f"Invitation of {invitation['email']} cancelled.", invitation["email"])


def refusals() -> None:
    with st.expander("Refused attempts in this workspace"):
        rows = people.refusals(workspace(), caller=caller())
        if not rows:
            st.caption("Nothing was refused.")
            return
        frame = pd.DataFrame(rows)[["refused_at", "actor", "action", "job_id", "reason"]]
        st.dataframe(frame, hide_index=True, key="refusals_table")


st.title(f"Members of {workspace()}")
show_flash()
found = or_stop(people.members, workspace(), caller=caller())
members_table(found)
change_member(found)
st.subheader("Invite someone")
invite_form()
invitations(found)
refusals()
