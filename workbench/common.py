"""Pieces the pages share: who is editing, which workspace, messages that survive a rerun,
and formatting."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from pipeline import defaults

__all__ = [
    "editor",
    "workspace",
    "flash",
    "show_flash",
    "when",
    "clock",
]


def editor() -> str:
    """The name edits and review decisions are recorded under (set in the sidebar)."""
    return str(st.session_state.get("editor") or "").strip() or "editor"


def workspace() -> str:
    return st.session_state.get("workspace") or defaults.DEFAULT_WORKSPACE


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
