"""ClipInsight in the browser: ``streamlit run app.py`` (``make run`` starts it with the workers).

Who is here comes first. With a login configured (``[auth]`` in ``.streamlit/secrets.toml``) a
person signs in with OpenID Connect (``st.login``) and is their email everywhere; the first
sign-in of an invited email joins its workspaces. Without one, the UI serves its one local user
(the owner of every workspace) on 127.0.0.1 only and refuses any other address.

Then it routes over the pages in ``pages/`` (owners also get Members and API keys) and draws the
sidebar every page shares: who is signed in, the workspaces they are a member of and the chosen
one's plan usage, whether Redis and the workers are alive, and which content provider runs.
"""

from __future__ import annotations

import streamlit as st

from pages.common import caller
from pipeline import defaults, people, views

st.set_page_config(page_title="ClipInsight", page_icon=":material/movie:", layout="wide")

PAGES = [
    st.Page("pages/submit.py", title="Submit", icon=":material/upload:", url_path="submit", default=True),
    st.Page("pages/runs.py", title="Runs", icon=":material/list:", url_path="runs"),
    st.Page("pages/run_detail.py", title="Run detail", icon=":material/description:", url_path="run"),
    st.Page("pages/review.py", title="Review", icon=":material/rate_review:", url_path="review"),
    st.Page("pages/analytics.py", title="Analytics", icon=":material/monitoring:", url_path="analytics"),
]
OWNER_PAGES = [
    st.Page("pages/members.py", title="Members", icon=":material/group:", url_path="members"),
    st.Page("pages/api_keys.py", title="API keys", icon=":material/key:", url_path="keys"),
]


def refuse_an_open_address() -> None:
    """A server on another interface with no login would make anyone the owner of everything.
    (No address set means every interface when a browser reached us over HTTP; a session with no
    HTTP headers is not served to anyone: AppTest, bare mode.)"""
    address = st.get_option("server.address")
    if address is None and not st.context.headers:
        return
    problem = views.ui_address_problem(address)
    if problem:
        st.error(problem)
        st.stop()


def sign_in_page() -> None:
    st.title("ClipInsight")
    st.write("Sign in to see your workspaces.")
    st.button("Sign in", type="primary", on_click=st.login, key="sign_in")


def signed_in() -> None:
    """Stop at the sign-in page until someone is signed in; record a sign-in once a session
    (which joins the workspaces the email was invited to)."""
    if not views.login_configured():
        return
    if not st.user.is_logged_in:
        sign_in_page()
        st.stop()
    if not st.user.get("email") or st.user.get("email_verified") is False:
        st.error("Your identity provider did not give a verified email address, which ClipInsight needs.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    email = caller().name
    if st.session_state.get("signed_in_as") != email:
        joined = people.sign_in(email, st.user.get("name"))["joined"]
        st.session_state["signed_in_as"] = email
        if joined:
            st.toast("Joined " + ", ".join(f"{j['workspace']} as {j['role']}" for j in joined))


def plan_usage(info: dict) -> None:
    plan = info["plan"]
    used, monthly = plan["used_minutes"], plan["monthly_minutes"]
    st.progress(
        min(used / monthly, 1.0) if monthly else 1.0,
        text=f"{used:.0f} of {monthly} min used this month ({plan['plan']} plan)",
    )


@st.fragment(run_every=defaults.UI_REFRESH_S * 2.5)
def services() -> None:
    """Live: Redis and the workers can come and go while a page stays open."""
    info = views.services()
    redis_line = ":green[Redis up]" if info["redis"] else ":red[Redis down]"
    count = len(info["workers"])
    worker_line = f":green[{count} worker{'s' if count != 1 else ''} alive]" if count else ":red[no worker alive]"
    st.markdown(f"{redis_line} · {worker_line}")
    st.caption(f"Content provider: {info['provider']}")


def identity(info: dict) -> None:
    if views.login_configured():
        role = info["roles"].get(info["workspace"])
        st.caption(f"Signed in as {info['actor']}" + (f" · {role} of {info['workspace']}" if role else ""))
        st.button("Sign out", on_click=st.logout, key="sign_out")
    else:
        st.caption(
            f"Local mode: no login configured, so you ({info['actor']}) are the owner of every workspace and "
            "the UI listens on 127.0.0.1 only. To open it to others, configure a login (README: People, roles "
            "and login)."
        )


def sidebar(info: dict) -> None:
    identity(info)
    roles = info["roles"]
    st.selectbox("Workspace", info["workspaces"], key="workspace", format_func=lambda w: f"{w} ({roles[w]})")
    plan_usage(info)
    services()


def no_workspace() -> None:
    st.title("No workspace yet")
    st.info(
        f"{caller().name} is not a member of any workspace. Ask an owner to invite this email address, "
        "then reload this page."
    )


refuse_an_open_address()
signed_in()
info = views.sidebar(st.session_state.get("workspace"), caller=caller())
st.session_state["workspace"] = st.session_state["chosen_workspace"] = info["workspace"]  # one of the caller's
if info["workspace"] is None:
    navigation = st.navigation([st.Page(no_workspace, title="No workspace", default=True)])
    with st.sidebar:
        identity(info)
else:
    owner = info["roles"][info["workspace"]] == "owner"
    navigation = st.navigation(PAGES + (OWNER_PAGES if owner else []))
    with st.sidebar:
        sidebar(info)
navigation.run()
