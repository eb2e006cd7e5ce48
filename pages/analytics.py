"""Analytics: runs per day by outcome, step durations (p50/p95), failure reasons, minutes and
estimated cost per workspace, and the spread of QA scores."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from pages.common import caller, workspace
from pipeline import views

OUTCOME_COLORS = {
    "delivered": "#2e7d32",
    "failed": "#c62828",
    "waiting for a person": "#ef6c00",
    "in progress": "#1565c0",
}


def chart(title: str, frame, draw, empty: str) -> None:
    st.subheader(title)
    if frame.empty:
        st.caption(empty)
        return
    figure = draw(frame)
    figure.update_layout(height=320, margin={"t": 10, "b": 10})
    st.plotly_chart(figure, key=title)


def runs_per_day(frame):
    return px.bar(frame, x="day", y="jobs", color="outcome", color_discrete_map=OUTCOME_COLORS)


def step_durations(frame):
    long = frame.melt(
        id_vars=["step", "attempts"], value_vars=["p50_s", "p95_s"], var_name="percentile", value_name="seconds"
    )
    return px.bar(long, x="step", y="seconds", color="percentile", barmode="group", hover_data=["attempts"])


def failure_reasons(frame):
    return px.bar(frame, x="attempts", y="error_code", color="step", orientation="h")


def usage(frame):
    return px.bar(frame, x="workspace", y="minutes", hover_data=["cost_usd", "jobs"], text="minutes")


def qa_scores(frame):
    frame = frame.assign(sent_to_editor=frame["flagged"].map({True: "sent to an editor", False: "passed"}))
    return px.histogram(frame, x="qa_score", color="sent_to_editor", nbins=20, range_x=[0, 100])


st.title("Analytics")
scope_column, days_column = st.columns(2)
everyone = scope_column.toggle("All workspaces", value=False, key="analytics_all")
days = days_column.select_slider("Period (days)", options=[7, 30, 90, 365], value=30, key="analytics_days")
data = views.analytics(None if everyone else workspace(), days, caller=caller())
st.caption(f"Since {data['since']:%Y-%m-%d %H:%M} UTC" + ("" if everyone else f", workspace {workspace()}"))

chart("Runs per day by outcome", data["runs_per_day"], runs_per_day, "No job in this period.")
left, right = st.columns(2)
with left:
    chart("Step durations", data["step_durations"], step_durations, "No step finished in this period.")
with right:
    chart("Failure reasons", data["failure_reasons"], failure_reasons, "No failed attempt in this period.")
left, right = st.columns(2)
with left:
    chart("Minutes per workspace", data["usage"], usage, "No usage recorded in this period.")
    if not data["usage"].empty:
        st.dataframe(
            data["usage"],
            hide_index=True,
            key="usage_table",
            column_config={
                "minutes": st.column_config.NumberColumn("Minutes", format="%.1f"),
                "cost_usd": st.column_config.NumberColumn("Estimated cost", format="$%.4f"),
            },
        )
with right:
    chart("QA scores", data["qa_scores"], qa_scores, "No job reached QA in this period.")
