"""API keys (owners): keys for programs that use the HTTP API on this workspace's behalf, each
with a role; its secret is shown once, when it is made. A revoked key is refused from its next
request on."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pipeline import people
from pipeline.access import Role
from pipeline.errors import ClipInsightError
from workbench import shell
from workbench.common import caller, flash, or_stop, show_flash, workspace

shell.enter()  # first: the app's navigation, even when Streamlit runs this file directly

ROLES = [role.value for role in Role]


def new_key_form() -> dict | None:
    """The key just made, if one was."""
    with st.form("new_key", clear_on_submit=True):
        name_column, role_column = st.columns([3, 1])
        name = name_column.text_input("What is it for?", key="key_name", placeholder="Zapier, a publishing script…")
        role = role_column.selectbox("Role", ROLES, index=ROLES.index(Role.CREATOR.value), key="key_role")
        if not st.form_submit_button("Create a key", type="primary"):
            return None
    try:
        return people.create_key(workspace(), role, name, caller=caller())
    except ClipInsightError as exc:
        st.error(str(exc))
        return None


def show_new_key(key: dict) -> None:
    """The secret, this once: it is stored only as a hash."""
    st.success(f"Created {key['key_id']} ({key['role']}). Copy the key now: it is not shown again.")
    st.code(key["secret"], language=None)
    st.caption('Use it as `Authorization: Bearer <key>`, e.g. `curl -H "Authorization: Bearer …" …/api/jobs`.')


def keys_table(keys: list[dict]) -> None:
    if not keys:
        st.caption("No key yet.")
        return
    frame = pd.DataFrame(keys)[
        ["key_id", "name", "role", "created_by", "created_at", "last_used_at", "revoked_at", "revoked_by"]
    ]
    st.dataframe(
        frame,
        hide_index=True,
        key="keys_table",
        column_config={
            "key_id": "Key",
            "name": "For",
            "role": "Role",
            "created_by": "Created by",
            "created_at": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
            "last_used_at": st.column_config.DatetimeColumn("Last used (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "revoked_at": st.column_config.DatetimeColumn("Revoked (UTC)", format="YYYY-MM-DD HH:mm"),
            "revoked_by": "Revoked by",
        },
    )


def revoke(keys: list[dict]) -> None:
    live = [key["key_id"] for key in keys if key["revoked_at"] is None]
    if not live:
        return
    names = {key["key_id"]: f"{key['key_id']} · {key['name']} ({key['role']})" for key in keys}
    pick, act = st.columns([4, 1], vertical_alignment="bottom")
    key_id = pick.selectbox("Key to revoke", live, format_func=names.get, key="revoke_key")
    if act.button("Revoke", key="revoke"):
        try:
            people.revoke_key(workspace(), key_id, caller=caller())
        except ClipInsightError as exc:
            st.error(str(exc))
            return
        flash(f"Revoked {key_id}: it is refused from now on.")
        st.rerun()


st.title(f"API keys of {workspace()}")
show_flash()
keys = or_stop(people.list_keys, workspace(), caller=caller())
made = new_key_form()
if made:
    show_new_key(made)
    keys = people.list_keys(workspace(), caller=caller())
st.subheader("Keys")
keys_table(keys)
revoke(keys)
