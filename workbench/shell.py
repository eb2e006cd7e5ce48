"""The shell every page is drawn in: the app's navigation and the sidebar (workspace, plan
usage, services, editor name). The one place that decides which pages a person sees.

Two ways into a page, one result:

- ``app.py`` calls :func:`run_app`: the navigation, the sidebar, then the page.
- A page URL opened first after the server started (``/review`` from a bookmark) is run by
  Streamlit straight from ``pages/``, before ``app.py`` has ever declared the navigation. Every
  page therefore starts with :func:`enter`, which draws the shell unless ``app.py`` already did
  in this script run. Page URLs equal the file names in ``pages/`` so both ways resolve a URL
  to the same page (no "Page not found").

The navigation is declared before anything slow (the sidebar reads the database), so the first
thing a browser receives is the app's own page list. ``.streamlit/config.toml`` hides
Streamlit's list of ``pages/`` files; the links drawn here are the navigation.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from pipeline import defaults

__all__ = ["SUBMIT_PAGE", "RUNS_PAGE", "RUN_PAGE", "REVIEW_PAGE", "ANALYTICS_PAGE", "run_app", "enter"]

SUBMIT_PAGE = "pages/submit.py"
RUNS_PAGE = "pages/runs.py"
RUN_PAGE = "pages/run.py"
REVIEW_PAGE = "pages/review.py"
ANALYTICS_PAGE = "pages/analytics.py"


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
]

#: Set while app.py runs a page, so the page's own :func:`enter` knows the shell is drawn.
_shell_drawn: ContextVar[bool] = ContextVar("shell_drawn", default=False)


def _pages() -> list[st.Page]:
    # The URL of a page is its file name: the same URL Streamlit gives a file in pages/.
    return [
        st.Page(e.path, title=e.title, icon=e.icon, url_path=e.path.removeprefix("pages/").removesuffix(".py"))
        for e in ENTRIES
    ]


def _draw() -> st.Page:
    page = st.navigation(_pages(), position="hidden")
    with st.sidebar:
        _menu()
        _controls()
    return page


def run_app() -> None:
    """``app.py``: the shell, then the page the URL names."""
    st.set_page_config(page_title="ClipInsight", page_icon=":material/movie:", layout="wide")
    page = _draw()
    with _drawn():
        page.run()


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
        _draw()


@contextmanager
def _drawn():
    token = _shell_drawn.set(True)
    try:
        yield
    finally:
        _shell_drawn.reset(token)


# --- The sidebar -------------------------------------------------------------------------


def _menu() -> None:
    st.markdown("**ClipInsight**")
    for entry in ENTRIES:
        if entry.in_menu:
            st.page_link(entry.path, label=entry.title, icon=entry.icon)
    st.divider()


def _controls() -> None:
    from pipeline import views  # after the navigation is out: the first paint needs no database

    info = views.sidebar(st.session_state.get("workspace"))
    st.session_state["workspace"] = info["workspace"]
    st.selectbox("Workspace", info["workspaces"], key="workspace")
    _plan_usage(info)
    _services()
    st.session_state.setdefault("editor", "editor")
    st.text_input("Editor name", key="editor", help="Edits and review decisions are recorded under this name.")


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
