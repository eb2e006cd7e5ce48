"""ClipInsight in the browser: ``streamlit run app.py`` (``make run`` starts it with the workers).

Routes over the pages in ``pages/`` and draws the sidebar every page shares: the workspace and
its plan usage, whether Redis and the workers are alive, which content provider runs, and the
editor name that edits and review decisions are recorded under.
"""

from __future__ import annotations

import streamlit as st

from pipeline import defaults, views
from pipeline.private import keep_private

keep_private()  # uploads saved by the UI are its user's alone
st.set_page_config(page_title="ClipInsight", page_icon=":material/movie:", layout="wide")

PAGES = [
    st.Page("pages/submit.py", title="Submit", icon=":material/upload:", url_path="submit", default=True),
    st.Page("pages/runs.py", title="Runs", icon=":material/list:", url_path="runs"),
    st.Page("pages/run_detail.py", title="Run detail", icon=":material/description:", url_path="run"),
    st.Page("pages/review.py", title="Review", icon=":material/rate_review:", url_path="review"),
    st.Page("pages/analytics.py", title="Analytics", icon=":material/monitoring:", url_path="analytics"),
    st.Page("pages/voice.py", title="Voice", icon=":material/record_voice_over:", url_path="voice"),
]


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


def sidebar() -> None:
    info = views.sidebar(st.session_state.get("workspace"))
    st.session_state["workspace"] = info["workspace"]
    st.selectbox("Workspace", info["workspaces"], key="workspace")
    plan_usage(info)
    services()
    st.session_state.setdefault("editor", "editor")
    st.text_input("Editor name", key="editor", help="Edits and review decisions are recorded under this name.")


navigation = st.navigation(PAGES)
with st.sidebar:
    sidebar()
navigation.run()
