"""Pieces the pages share: who is signed in, which workspace, messages that survive a rerun,
formatting, and the draft editor (used on Run detail and on Review)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from pipeline import api, diffs, views
from pipeline.access import Caller
from pipeline.errors import ClipInsightError, Conflict
from pipeline.models import Draft, DraftFormat

__all__ = [
    "RUN_PAGE",
    "RUNS_PAGE",
    "REVIEW_PAGE",
    "SUBMIT_PAGE",
    "caller",
    "workspace",
    "flash",
    "show_flash",
    "when",
    "clock",
    "draft_editor",
    "or_stop",
]

SUBMIT_PAGE = "pages/submit.py"
RUNS_PAGE = "pages/runs.py"
RUN_PAGE = "pages/run_detail.py"
REVIEW_PAGE = "pages/review.py"


def caller() -> Caller:
    """Who uses this page: the signed-in email, or the local owner when no login is configured.
    Read from the session on every call (fragments and callbacks included), never from a field
    the browser could set."""
    if views.login_configured():
        if not st.user.is_logged_in:
            st.stop()  # app.py shows the sign-in page; nothing else runs without an identity
        return Caller.person(str(st.user.email))
    return Caller.local()


def workspace() -> str | None:
    """The workspace chosen in the sidebar, as ``app.py`` checked it: one the caller is a member of."""
    return st.session_state.get("chosen_workspace")


def or_stop(load, *args, **kwargs):
    """What ``load`` returns; when it is refused (or fails for a reason a person can act on), the
    message instead of the rest of the page."""
    try:
        return load(*args, **kwargs)
    except ClipInsightError as exc:
        st.error(str(exc))
        st.stop()


def flash(message: str, kind: str = "success") -> None:
    """A message shown once, on the next run (an action usually reruns the page)."""
    st.session_state["flash"] = (kind, message)


def show_flash() -> None:
    kind, message = st.session_state.pop("flash", (None, None))
    if message:
        getattr(st, kind)(message)


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


# --- The draft editor --------------------------------------------------------------------


def draft_editor(job_id: str, fmt: str, latest: dict, *, where: str) -> None:
    """Edit a draft and save it as a new version. The editor keeps the version it was opened
    at; saving over a newer version someone else saved shows a conflict instead."""
    base = _base(job_id, fmt, latest)
    conflict = st.session_state.get(f"conflict:{job_id}:{fmt}")
    if latest["version"] > base["version"] and not conflict:
        st.info(
            f"Version {latest['version']} was saved by {latest['author']} at {when(latest['created_at'])} "
            f"after you opened version {base['version']}."
        )
        _load_latest_button(job_id, fmt, latest)
    label = DraftFormat(fmt).label
    key = f"{where}:{job_id}:{fmt}:v{base['version']}"
    # No form: each field sends its text when it loses focus, so with persist_state unsaved text
    # survives switching drafts, tabs and pages until it is saved.
    title = st.text_input("Title", value=base["draft"].title, key=f"title:{key}", persist_state="session")
    hint = " (posts separated by lines of ---)" if fmt == DraftFormat.X_THREAD.value else ""
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
        st.error(str(exc))
        return
    st.session_state[_base_key(job_id, fmt)] = {"version": version, "draft": _as_draft(fmt, fields)}
    st.session_state.pop(f"conflict:{job_id}:{fmt}", None)
    flash(f"Saved the {DraftFormat(fmt).label} as version {version} (by {caller().name}).")
    st.rerun()


def _show_conflict(job_id: str, fmt: str, latest: dict) -> None:
    conflict = st.session_state.get(f"conflict:{job_id}:{fmt}")
    if not conflict:
        return
    st.error(f"Not saved: {conflict['message']}")
    mine = _as_draft(fmt, conflict["mine"])
    st.caption(
        f"How your text differs from version {latest['version']} (saved by {latest['author']}); copy what "
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
    title = fields["title"].strip() or DraftFormat(fmt).label
    return Draft(format=fmt, title=title, body=fields["body"], posts=fields["posts"] or [])
