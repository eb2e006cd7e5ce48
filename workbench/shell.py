"""The shell every page is drawn in: who is here, the app's navigation and the sidebar
(identity, workspace, plan usage, services). The one place that decides which pages a person sees.

Who is here comes first. With a login configured (``[auth]`` in ``.streamlit/secrets.toml``) a
person signs in with OpenID Connect (``st.login``) and is their email everywhere; their first
sign-in joins the workspaces the email was invited to. Without one, the UI serves its one local
user (the owner of every workspace, recorded under the name typed in the sidebar) on 127.0.0.1
only, and refuses to serve anywhere else. Owners also get Members and API keys in the menu (the
pages themselves check again, as every operation does).

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

__all__ = [
    "SUBMIT_PAGE",
    "RUNS_PAGE",
    "RUN_PAGE",
    "REVIEW_PAGE",
    "ANALYTICS_PAGE",
    "VOICE_PAGE",
    "MEMBERS_PAGE",
    "KEYS_PAGE",
    "run_app",
    "enter",
]

SUBMIT_PAGE = "pages/submit.py"
RUNS_PAGE = "pages/runs.py"
RUN_PAGE = "pages/run.py"
REVIEW_PAGE = "pages/review.py"
ANALYTICS_PAGE = "pages/analytics.py"
VOICE_PAGE = "pages/voice.py"
MEMBERS_PAGE = "pages/members.py"
KEYS_PAGE = "pages/api_keys.py"


@dataclass(frozen=True)
class PageEntry:
    path: str
    title: str
    icon: str
    in_menu: bool = True  # Run detail is reached from a job, not from the menu
    owners_only: bool = False  # in the menu of the workspace's owners only


ENTRIES = [
    PageEntry(SUBMIT_PAGE, "Submit", ":material/upload:"),
    PageEntry(RUNS_PAGE, "Runs", ":material/list:"),
    PageEntry(RUN_PAGE, "Run detail", ":material/description:", in_menu=False),
    PageEntry(REVIEW_PAGE, "Review", ":material/rate_review:"),
    PageEntry(ANALYTICS_PAGE, "Analytics", ":material/monitoring:"),
    PageEntry(VOICE_PAGE, "Voice", ":material/record_voice_over:"),
    PageEntry(MEMBERS_PAGE, "Members", ":material/group:", owners_only=True),
    PageEntry(KEYS_PAGE, "API keys", ":material/key:", owners_only=True),
]

#: Set while app.py runs a page, so the page's own :func:`enter` knows the shell is drawn.
_shell_drawn: ContextVar[bool] = ContextVar("shell_drawn", default=False)


def _home() -> None:
    """The root URL opens Submit under its own URL."""
    st.switch_page(SUBMIT_PAGE)


def _role() -> str | None:
    """The person's role in the chosen workspace, as the sidebar read it last (the local user
    owns every workspace)."""
    from pipeline import views

    if not views.login_configured():
        return "owner"
    from workbench.common import workspace

    return st.session_state.get("roles", {}).get(workspace())


def _pages() -> list[st.Page]:
    # The URL of a page is its file name: the same URL Streamlit gives a file in pages/. The
    # default page answers the root URL only, so it is a hidden step to Submit rather than
    # Submit itself (whose bookmarked /submit would otherwise be "not found").
    home = st.Page(_home, title="ClipInsight", url_path="home", default=True, visibility="hidden")
    owner = _role() == "owner"
    return [home] + [
        st.Page(
            e.path,
            title=e.title,
            icon=e.icon,
            url_path=e.path.removeprefix("pages/").removesuffix(".py"),
            visibility="visible" if e.in_menu else "hidden",
        )
        for e in ENTRIES
        if owner or not e.owners_only  # the owners' pages are not pages for anyone else
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
    _identify()
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
        _identify()
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


# --- Who is here --------------------------------------------------------------------------


def _identify() -> None:
    """Before any page: refuse an open address without a login, and with a login, stop at the
    sign-in page until someone is signed in (a first sign-in in a session is recorded, which
    joins the workspaces the email was invited to)."""
    from pipeline import people, views
    from workbench.common import caller

    _refuse_an_open_address()
    if not views.login_configured():
        return
    if not st.user.is_logged_in:
        st.title("ClipInsight")
        st.write("Sign in to see your workspaces.")
        st.button("Sign in", type="primary", on_click=st.login, key="sign_in")
        st.stop()
    if not st.user.get("email") or st.user.get("email_verified") is False:
        st.error("Your identity provider did not give a verified email address, which ClipInsight needs.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    email = caller().name
    if st.session_state.get("signed_in_as") != email:
        found = people.sign_in(email, st.user.get("name"))
        st.session_state["signed_in_as"] = email
        st.session_state["roles"] = found["roles"]
        if found["joined"]:
            st.toast("Joined " + ", ".join(f"{j['workspace']} as {j['role']}" for j in found["joined"]))
    if not st.session_state.get("roles"):
        st.title("No workspace yet")
        st.info(f"{email} is not a member of any workspace. Ask an owner to invite this email address, then reload.")
        st.button("Sign out", on_click=st.logout, key="sign_out")
        st.stop()


def _refuse_an_open_address() -> None:
    """A server on another interface with no login would make anyone the owner of everything.
    (No address set means every interface when a browser reached us over HTTP; a session with no
    HTTP headers is not served to anyone: AppTest, bare mode.)"""
    from pipeline import views

    address = st.get_option("server.address")
    if address is None and not st.context.headers:
        return
    problem = views.ui_address_problem(address)
    if problem:
        st.error(problem)
        st.stop()


# --- The sidebar -------------------------------------------------------------------------


def _controls() -> None:
    from pipeline import views  # after the navigation is out: the first paint needs no database
    from workbench.common import caller, keep, kept

    info = views.sidebar(kept("workspace"), caller=caller())
    if info["roles"] != st.session_state.get("roles") and views.login_configured():
        st.session_state["roles"] = info["roles"]  # a role changed: the menu follows on the next run
    st.session_state["workspace"] = info["workspace"]
    _identity(info)
    roles = info["roles"]
    chosen = st.selectbox(
        "Workspace",
        info["workspaces"],
        key="workspace",
        format_func=lambda name: f"{name} ({roles[name]})" if views.login_configured() else name,
    )
    keep("workspace", chosen)
    _plan_usage(info)
    _services()


def _identity(info: dict) -> None:
    from pipeline import views
    from workbench.common import keep, kept
    from workbench.text import literal

    if views.login_configured():
        role = info["roles"].get(info["workspace"])
        where = f" · {role} of {info['workspace']}" if role else ""
        st.caption(literal(f"Signed in as {info['actor']}{where}"))
        st.button("Sign out", on_click=st.logout, key="sign_out")
        return
    st.session_state.setdefault("editor", kept("editor") or "editor")
    keep(
        "editor",
        st.text_input("Editor name", key="editor", help="Edits and review decisions are recorded under this name."),
    )
    st.caption(
        "Local mode: no login is configured, so whoever uses this page is the owner of every workspace, and the "
        "UI listens on this machine only. To let others in, configure a login (README: People, roles and login)."
    )


def _plan_usage(info: dict) -> None:
    plan = info["plan"]
    if plan is None:
        return
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
