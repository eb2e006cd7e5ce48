"""Pieces the pages share: who is here, which workspace, messages that survive a rerun, and
times in the viewer's time zone (the browser's; UTC when it has not said)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from pipeline import defaults, wording
from pipeline.access import Caller
from pipeline.errors import ClipInsightError

__all__ = [
    "caller",
    "editor",
    "workspace",
    "or_stop",
    "flash",
    "show_flash",
    "zone",
    "zone_name",
    "when",
    "local_times",
    "status_badge",
    "status_changes",
]


def caller() -> Caller:
    """Who uses this page: the signed-in email; with no login configured, the local owner under
    the name typed in the sidebar. Read from the session on every call (fragments and callbacks
    included); with a login, never from a field the browser could set."""
    from pipeline import views

    if views.login_configured():
        if not st.user.is_logged_in:
            st.stop()  # the shell shows the sign-in page; nothing else runs without an identity
        return Caller.person(str(st.user.email))
    return Caller.local(str(kept("editor") or "").strip() or "editor")


def keep(name: str, value) -> None:
    """Remember a sidebar widget's value for the whole session. Streamlit forgets a widget's
    state after a run that did not draw it (one that ended early, with ``st.rerun`` or
    ``st.stop``); a plain key survives. (Widgets with ``persist_state`` would too, but they held
    every page's first paint back by ~0.5 s in Chromium: docs/benchmarks.md.)"""
    st.session_state[f"kept:{name}"] = value


def kept(name: str):
    """The sidebar widget's value, or what :func:`keep` remembered once its state is gone, or None."""
    return st.session_state.get(name) or st.session_state.get(f"kept:{name}")


def editor() -> str:
    """The name edits and review decisions are recorded under."""
    return caller().name


def workspace() -> str | None:
    """The workspace chosen in the sidebar (one the person is a member of); before the sidebar
    has been read once, the default one in local mode, else their first."""
    chosen = kept("workspace")
    if chosen:
        return chosen
    roles = st.session_state.get("roles")
    return sorted(roles)[0] if roles else defaults.DEFAULT_WORKSPACE


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


def zone() -> ZoneInfo:
    """The viewer's time zone, as the browser reports it."""
    return wording.viewer_zone(st.context.timezone)


def zone_name() -> str:
    return zone().key


def when(moment: datetime | None) -> str:
    """A moment in the viewer's time zone, e.g. ``Mar 14, 2026 14:05``."""
    return wording.local_time(moment, zone())


def local_times(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """The frame with these UTC columns moved to the viewer's time zone (for tables and charts)."""
    moved = frame.copy()
    for column in columns:
        moved[column] = pd.to_datetime(moved[column]).dt.tz_localize("UTC").dt.tz_convert(zone().key)
    return moved


def status_badge(status: str, error_code: str | None = None) -> None:
    """The status as a coloured badge with its icon; the code is in the tooltip."""
    words = wording.status_words(status, error_code)
    code = status + (f" ({error_code})" if error_code else "")
    st.badge(words.label, icon=words.icon, color=words.color, help=f"{words.meaning} · {code}")


def status_changes(audit: list[dict], *, key: str) -> None:
    """Who moved the job where, in words; the codes are in the column's tooltip."""
    frame = local_times(pd.DataFrame(audit), "changed_at")
    for column in ("from_status", "to_status"):
        frame[column] = [wording.status_text(s) if isinstance(s, str) else "—" for s in frame[column]]
    st.dataframe(
        frame[["changed_at", "from_status", "to_status", "move", "actor", "reason"]],
        hide_index=True,
        key=key,
        column_config={
            "changed_at": st.column_config.DatetimeColumn("When", format="MMM D, HH:mm:ss"),
            "from_status": st.column_config.TextColumn("From", help=wording.status_legend()),
            "to_status": st.column_config.TextColumn("To", help=wording.status_legend()),
            "move": "Why it moved",
            "actor": "By",
            "reason": "Reason",
        },
    )
