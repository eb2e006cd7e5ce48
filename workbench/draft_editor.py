"""The draft editor (Run detail and Review): edit a draft and save it as a new version. The
editor keeps the version it was opened at; saving over a newer version someone else saved shows
a conflict instead of overwriting it."""

from __future__ import annotations

import streamlit as st

from pipeline import api, diffs, views
from pipeline.errors import ClipInsightError, Conflict
from pipeline.models import Draft
from workbench.common import caller, editor, flash, when
from workbench.text import literal

__all__ = ["draft_editor"]


def draft_editor(job_id: str, fmt: str, latest: dict, *, where: str) -> None:
    """Edit a draft and save it as a new version. The editor keeps the version it was opened
    at; saving over a newer version someone else saved shows a conflict instead."""
    base = _base(job_id, fmt, latest)
    conflict = st.session_state.get(f"conflict:{job_id}:{fmt}")
    if latest["version"] > base["version"] and not conflict:
        st.info(
            f"Version {latest['version']} was saved by {literal(latest['author'])} at {when(latest['created_at'])} "
            f"after you opened version {base['version']}."
        )
        _load_latest_button(job_id, fmt, latest)
    label = views.format_label(fmt)
    key = f"{where}:{job_id}:{fmt}:v{base['version']}"
    # No form: each field sends its text when it loses focus, so with persist_state unsaved text
    # survives switching drafts, tabs and pages until it is saved.
    title = st.text_input("Title", value=base["draft"].title, key=f"title:{key}", persist_state="session")
    hint = next(c["hint"] for c in views.format_choices() if c["name"] == fmt)
    text = st.text_area(
        f"{label} text{hint}",
        value=views.editor_text(base["draft"]),
        height=320,
        key=f"text:{key}",
        persist_state="session",
    )
    saved = st.button(f"Save {label} as a new version", key=f"save:{key}", type="primary")
    if saved:
        _save(job_id, fmt, base, title, text)
    _show_conflict(job_id, fmt, latest)


def _base_key(job_id: str, fmt: str) -> str:
    return f"base:{job_id}:{fmt}"


def _base(job_id: str, fmt: str, latest: dict) -> dict:
    """The version this session opened (the latest, the first time)."""
    key = _base_key(job_id, fmt)
    if key not in st.session_state:
        st.session_state[key] = _snapshot(latest)
    return st.session_state[key]


def _snapshot(version: dict) -> dict:
    return {"version": version["version"], "draft": version["draft"]}


def _save(job_id: str, fmt: str, base: dict, title: str, text: str) -> None:
    fields = views.draft_fields(fmt, title, text)
    try:
        version = api.edit_draft(job_id, fmt, **fields, caller=caller(), expected_version=base["version"])
    except Conflict as exc:
        st.session_state[f"conflict:{job_id}:{fmt}"] = {"message": str(exc), "mine": fields}
        return
    except ClipInsightError as exc:
        st.error(literal(str(exc)))
        return
    st.session_state[_base_key(job_id, fmt)] = {"version": version, "draft": _as_draft(fmt, fields)}
    st.session_state.pop(f"conflict:{job_id}:{fmt}", None)
    flash(f"Saved the {views.format_label(fmt)} as version {version} (by {literal(editor())}).")
    st.rerun()


def _show_conflict(job_id: str, fmt: str, latest: dict) -> None:
    conflict = st.session_state.get(f"conflict:{job_id}:{fmt}")
    if not conflict:
        return
    st.error(f"Not saved: {literal(conflict['message'])}")
    mine = _as_draft(fmt, conflict["mine"])
    st.caption(
        f"How your text differs from version {latest['version']} (saved by {literal(latest['author'])}); copy what "
        "you need, load their version, and apply your changes to it:"
    )
    diff = diffs.draft_diff(latest["draft"], mine, old_label=f"version {latest['version']}", new_label="yours")
    st.code(diff or "(no difference)", language="diff")
    _load_latest_button(job_id, fmt, latest)


def _load_latest_button(job_id: str, fmt: str, latest: dict) -> None:
    if st.button(f"Load version {latest['version']} into the editor", key=f"reload:{job_id}:{fmt}"):
        st.session_state[_base_key(job_id, fmt)] = _snapshot(latest)
        st.session_state.pop(f"conflict:{job_id}:{fmt}", None)
        st.rerun()


def _as_draft(fmt: str, fields: dict) -> Draft:
    title = fields["title"].strip() or views.format_label(fmt)
    return Draft(format=fmt, title=title, body=fields["body"], posts=fields["posts"] or [])
