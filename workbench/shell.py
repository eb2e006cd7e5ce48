"""The shell every page is drawn in: the app's navigation and the sidebar (workspace, plan
usage, services, editor name). The one place that decides which pages a person sees.

Two ways into a page, one result:

- ``app.py`` calls :func:`run_app`: the navigation, the page, then the sidebar's controls.
- A page URL opened first after the server started (``/review`` from a bookmark) is run by
  Streamlit straight from ``pages/``, before ``app.py`` has ever declared the navigation. Every
  page therefore starts with :func:`enter`, which draws the shell unless ``app.py`` already did
  in this script run. Page URLs equal the file names in ``pages/`` so both ways resolve a URL
  to the same page (no "Page not found").

The navigation goes across the top (on a phone, into the sidebar's drawer): Streamlit draws it
from its first bundle, so it is on screen with the page's heading, while link widgets would wait
for their own bundle. It is declared before anything slow, and the sidebar's controls (which read
the database and Redis) are filled in after the page. ``.streamlit/config.toml`` hides
Streamlit's list of ``pages/`` files.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from pipeline import defaults

__all__ = ["SUBMIT_PAGE", "RUNS_PAGE", "RUN_PAGE", "REVIEW_PAGE", "ANALYTICS_PAGE", "VOICE_PAGE", "run_app", "enter"]

SUBMIT_PAGE = "pages/submit.py"
RUNS_PAGE = "pages/runs.py"
RUN_PAGE = "pages/run.py"
REVIEW_PAGE = "pages/review.py"
ANALYTICS_PAGE = "pages/analytics.py"
VOICE_PAGE = "pages/voice.py"


@dataclass(frozen=True)
class PageEntry:
    path: str
    title: str
    icon: str
    in_menu: bool = True  # Run detail is reached from a job, not from the menu


ENTRIES = [
    PageEntry(SUBMIT_PAGE, "Submit", ":material/upload:"),
    PageEntry(RUNS_PAGE, "Runs", ":material/list:"),
    PageEntry(RUN_PAGE, "Run detail", ":material/description:", in_menu=False),
    PageEntry(REVIEW_PAGE, "Review", ":material/rate_review:"),
    PageEntry(ANALYTICS_PAGE, "Analytics", ":material/monitoring:"),
    PageEntry(VOICE_PAGE, "Voice", ":material/record_voice_over:"),
]

#: Set while app.py runs a page, so the page's own :func:`enter` knows the shell is drawn.
_shell_drawn: ContextVar[bool] = ContextVar("shell_drawn", default=False)


def _home() -> None:
    """The root URL opens Submit under its own URL."""
    st.switch_page(SUBMIT_PAGE)


def _pages() -> list[st.Page]:
    # The URL of a page is its file name: the same URL Streamlit gives a file in pages/. The
    # default page answers the root URL only, so it is a hidden step to Submit rather than
    # Submit itself (whose bookmarked /submit would otherwise be "not found").
    home = st.Page(_home, title="ClipInsight", url_path="home", default=True, visibility="hidden")
    return [home] + [
        st.Page(
            e.path,
            title=e.title,
            icon=e.icon,
            url_path=e.path.removeprefix("pages/").removesuffix(".py"),
            visibility="visible" if e.in_menu else "hidden",
        )
        for e in ENTRIES
    ]


def _draw() -> tuple[st.Page, object]:
    """The navigation (across the top: part of Streamlit's first bundle, so it is on screen with
    the first paint, and on a phone it needs no sidebar opened); returns the page and a sidebar
    slot for the controls."""
    page = st.navigation(_pages(), position="top")
    st.sidebar.markdown("**ClipInsight**")
    return page, st.sidebar.container()


def run_app() -> None:
    """``app.py``: the navigation, the page the URL names, then the sidebar's controls. The
    controls read the database and Redis; filled into their slot after the page, they do not
    hold back the page's heading. (A page that reads the workspace before its selector exists
    gets the one chosen last time, which the session keeps.)"""
    st.set_page_config(page_title="ClipInsight", page_icon=":material/movie:", layout="wide")
    page, controls = _draw()
    with _drawn():
        page.run()
    with controls:
        _controls()


def enter() -> None:
    """The first line of every page: draw the shell unless ``app.py`` has drawn it this run.

    Streamlit names every element by the script it belongs to. Drawn from here, the shell is
    drawn as the main script's (as ``app.py`` draws it) and the page's own elements stay the
    page's, so widgets keep their state when the next run goes through ``app.py``."""
    if _shell_drawn.get():
        return
    ctx = get_script_run_ctx()
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
        st.set_page_config(page_title="ClipInsight", page_icon=":material/movie:", layout="wide")
        _, controls = _draw()
        with controls:
            _controls()


@contextmanager
def _drawn():
    token = _shell_drawn.set(True)
    try:
        yield
    finally:
        _shell_drawn.reset(token)


# --- The sidebar -------------------------------------------------------------------------


def _controls() -> None:
    from pipeline import views  # after the navigation is out: the first paint needs no database

    info = views.sidebar(st.session_state.get("workspace"))
    st.session_state["workspace"] = info["workspace"]
    # Kept for the whole session even in a run that ends (st.rerun) before the sidebar is drawn.
    st.selectbox("Workspace", info["workspaces"], key="workspace", persist_state="session")
    _plan_usage(info)
    _services()
    st.session_state.setdefault("editor", "editor")
    st.text_input(
        "Editor name",
        key="editor",
        help="Edits and review decisions are recorded under this name.",
        persist_state="session",
    )


def _plan_usage(info: dict) -> None:
    plan = info["plan"]
    used, monthly = plan["used_minutes"], plan["monthly_minutes"]
    st.progress(
        min(used / monthly, 1.0) if monthly else 1.0,
        text=f"{used:.0f} of {monthly} min used this month ({plan['plan']} plan)",
    )


@st.fragment(run_every=defaults.UI_REFRESH_S * 2.5)
def _services() -> None:
    """Live: Redis and the workers can come and go while a page stays open."""
    from pipeline import views

    info = views.services()
    redis_line = ":green[Redis up]" if info["redis"] else ":red[Redis down]"
    count = len(info["workers"])
    worker_line = f":green[{count} worker{'s' if count != 1 else ''} alive]" if count else ":red[no worker alive]"
    st.markdown(f"{redis_line} · {worker_line}")
    st.caption(f"Content provider: {info['provider']}")
