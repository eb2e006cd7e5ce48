"""Analytics, in two tabs. *Your content*: drafts delivered per week by format (and how many an
editor approved or a person edited first), how QA scored them, minutes used against the plan.
*Operations*: jobs per day by outcome, why jobs failed, failed attempts by step, step durations,
minutes and cost per workspace. Days and weeks are the viewer's; numbers are rounded."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from pipeline import defaults, views, wording
from workbench import shell
from workbench.common import caller, workspace, zone_name
from workbench.text import literal

shell.enter()  # first: the app's navigation, even when Streamlit runs this file directly

OUTCOME_COLORS = {
    "delivered": "#2e7d32",
    "failed": "#c62828",
    "waiting for a person": "#ef6c00",
    "in progress": "#1565c0",
}
MEASURE_COLORS = {"delivered": "#1565c0", "approved by an editor": "#2e7d32", "edited before going out": "#ef6c00"}
QA_BINS = [(0, 49, "under 50"), (50, 59, "50–59"), (60, 69, "60–69"), (70, 79, "70–79"), (80, 89, "80–89")]
QA_BINS.append((90, 100, "90–100"))


def legible(figure: go.Figure, height: int = 300) -> go.Figure:
    """One look for every chart: room for labels, a legend above, whole numbers on count axes."""
    figure.update_layout(
        height=height,
        margin={"t": 70 if len(figure.data) > 1 else 30, "b": 10, "l": 10, "r": 10},  # room for a legend
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        bargap=0.25,
        uniformtext={"minsize": 10, "mode": "hide"},  # a label that does not fit is left out, not shrunk
    )
    return figure


def whole_numbers(figure: go.Figure, largest: float, axis: str = "y") -> None:
    """A count axis with whole-number ticks at a round step (no '0, 1, 1, 2, 2')."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10**4, 10**5) if largest / s <= 6)
    update = figure.update_yaxes if axis == "y" else figure.update_xaxes
    update(tickformat=",d", dtick=step, rangemode="tozero", range=[0, max(largest * 1.15, step)])


def chart(title: str, figure_or_empty, empty: str) -> None:
    st.subheader(title)
    if figure_or_empty is None:
        st.caption(empty)
        return
    st.plotly_chart(figure_or_empty, key=title, config={"displayModeBar": False})


def day_labels(days: pd.Series) -> list[str]:
    return [f"{day:%b} {day.day}" for day in pd.to_datetime(days)]


# --- Your content ------------------------------------------------------------------------


def content_totals(frame: pd.DataFrame, scores: pd.DataFrame) -> None:
    facts = st.container(horizontal=True, gap="large")
    facts.metric("Drafts delivered", f"{int(frame['delivered'].sum()):,}", width="content")
    facts.metric("Approved by an editor", f"{int(frame['approved'].sum()):,}", width="content")
    facts.metric("Edited before going out", f"{int(frame['edited'].sum()):,}", width="content")
    median = f"{scores['qa_score'].median():.0f}" if not scores.empty else "—"
    facts.metric("Median QA score", median, width="content", help="The lowest draft score of each job, halfway point")


def drafts_per_week(frame: pd.DataFrame):
    if frame.empty:
        return None
    frame = frame.assign(week=day_labels(frame["week"]))
    figure = px.bar(
        frame, x="week", y="delivered", color="format", text="delivered", labels={"delivered": "drafts", "week": ""}
    )
    figure.update_traces(textposition="inside", texttemplate="%{text:,d}")
    figure.update_xaxes(type="category", title="week starting")
    figure.update_yaxes(title="drafts delivered")
    whole_numbers(figure, frame.groupby("week")["delivered"].sum().max())
    return legible(figure)


def by_format(frame: pd.DataFrame) -> None:
    """Per format, for the period: a small table reads faster than a chart."""
    if frame.empty:
        return
    table = frame.groupby("format", as_index=False)[["delivered", "approved", "edited"]].sum()
    st.dataframe(
        table,
        hide_index=True,
        key="content_by_format",
        column_config={
            "format": "Format",
            "delivered": st.column_config.NumberColumn("Delivered", format="%d"),
            "approved": st.column_config.NumberColumn("Approved", format="%d", help="Approved by an editor"),
            "edited": st.column_config.NumberColumn("Edited", format="%d", help="Edited by a person before going out"),
        },
    )


def qa_distribution(scores: pd.DataFrame, threshold: int):
    """Jobs per band of QA score, split by whether QA sent them to an editor (a low score or a
    risk flag), with the threshold's band marked."""
    if scores.empty:
        return None
    labels = [label for _, _, label in QA_BINS]
    figure = go.Figure()
    for flagged, name, color in ((False, "passed", "#2e7d32"), (True, "sent to an editor", "#ef6c00")):
        chosen = scores[scores["flagged"] == flagged]["qa_score"]
        counts = [int(chosen.between(low, high).sum()) for low, high, _ in QA_BINS]
        figure.add_bar(x=labels, y=counts, name=name, marker_color=color, text=[c or "" for c in counts])
    figure.update_layout(barmode="stack")
    figure.update_traces(textposition="inside")
    figure.update_xaxes(type="category", title=f"QA score (lowest draft of each job; threshold {threshold})")
    whole_numbers(figure, max(int(scores["qa_score"].between(lo, hi).sum()) for lo, hi, _ in QA_BINS))
    return legible(figure)


def plan_minutes(data: dict) -> None:
    """This month's minutes against the plan: a bar per workspace, the running total for one."""
    st.subheader("Minutes used this month")
    for row in data["plan_use"].itertuples():
        share = row.used_minutes / row.monthly_minutes if row.monthly_minutes else 1.0
        st.progress(
            min(share, 1.0),
            text=f"{literal(row.workspace)}: {row.used_minutes:,.0f} of {row.monthly_minutes:,} min "
            f"({share:.0%}, {literal(row.plan)} plan)",
        )
    per_day = data["minutes_per_day"]
    if per_day is not None and not per_day.empty and len(data["plan_use"]) == 1:
        chart("Running total this month", running_total(per_day, data["plan_use"].iloc[0]), "")


def running_total(per_day: pd.DataFrame, plan) -> go.Figure:
    labels = day_labels(per_day["day"])
    total = per_day["minutes"].cumsum().round(0)
    figure = go.Figure(go.Scatter(x=labels, y=total, mode="lines+markers", name="used", line={"color": "#1565c0"}))
    figure.add_hline(
        y=plan.monthly_minutes,
        line_dash="dash",
        line_color="#c62828",
        annotation_text=f"plan: {plan.monthly_minutes:,}",
    )
    figure.update_xaxes(type="category")
    figure.update_yaxes(tickformat=",d", title="minutes", rangemode="tozero", range=[0, plan.monthly_minutes * 1.1])
    return legible(figure, height=260)


def content_tab(data: dict) -> None:
    content_totals(data["content_per_week"], data["qa_scores"])
    chart("Drafts delivered per week", drafts_per_week(data["content_per_week"]), "No draft went out in this period.")
    by_format(data["content_per_week"])
    left, right = st.columns(2)
    with left:
        chart(
            "How QA scored the jobs",
            qa_distribution(data["qa_scores"], defaults.QA_THRESHOLD),
            "No job reached QA in this period.",
        )
    with right:
        plan_minutes(data)


# --- Operations --------------------------------------------------------------------------


def runs_per_day(frame: pd.DataFrame):
    if frame.empty:
        return None
    frame = frame.assign(day=day_labels(frame["day"]))
    figure = px.bar(frame, x="day", y="jobs", color="outcome", color_discrete_map=OUTCOME_COLORS)
    figure.update_xaxes(type="category", title=None)
    figure.update_yaxes(title="jobs submitted")
    whole_numbers(figure, frame.groupby("day")["jobs"].sum().max())
    return legible(figure)


def failed_jobs(frame: pd.DataFrame):
    if frame.empty:
        return None
    figure = px.bar(frame, x="jobs", y="reason", orientation="h", text="jobs", color_discrete_sequence=["#c62828"])
    figure.update_traces(texttemplate="%{text:,d}", textposition="outside")
    figure.update_xaxes(title="jobs")
    whole_numbers(figure, frame["jobs"].max(), axis="x")
    figure.update_yaxes(title=None, autorange="reversed")
    return legible(figure, height=120 + 36 * len(frame))


def failed_attempts(frame: pd.DataFrame):
    if frame.empty:
        return None
    figure = px.bar(frame, x="attempts", y="reason", color="step", orientation="h")
    figure.update_xaxes(title="failed attempts (retried or not)")
    whole_numbers(figure, frame.groupby("reason")["attempts"].sum().max(), axis="x")
    figure.update_yaxes(title=None)
    return legible(figure, height=140 + 36 * frame["reason"].nunique())


def seconds_text(seconds: float) -> str:
    if seconds < 0.1:
        return "<0.1 s"
    return f"{seconds:.1f} s" if seconds < 60 else wording.duration(seconds)


def step_durations(frame: pd.DataFrame):
    if frame.empty:
        return None
    long = frame.melt(
        id_vars=["step", "attempts"], value_vars=["p50_s", "p95_s"], var_name="kind", value_name="seconds"
    )
    long["kind"] = long["kind"].map({"p50_s": "typical (median)", "p95_s": "slow (95th percentile)"})
    long["shown"] = [seconds_text(value) for value in long["seconds"]]
    figure = px.bar(
        long,
        x="seconds",
        y="step",
        color="kind",
        barmode="group",
        orientation="h",
        text="shown",
        hover_data=["attempts"],
        color_discrete_sequence=["#1565c0", "#90caf9"],
    )
    figure.update_traces(textposition="outside")
    figure.update_xaxes(title="seconds", rangemode="tozero")
    figure.update_yaxes(title=None, autorange="reversed")
    return legible(figure, height=140 + 44 * len(frame))


def usage_table(frame: pd.DataFrame) -> None:
    st.subheader("Minutes and cost per workspace")
    if frame.empty:
        st.caption("No usage recorded in this period.")
        return
    st.dataframe(
        frame,
        hide_index=True,
        key="usage_table",
        column_config={
            "workspace": "Workspace",
            "minutes": st.column_config.NumberColumn("Minutes", format="%.0f"),
            "cost_usd": st.column_config.NumberColumn("Estimated cost", format="$%.2f"),
            "jobs": st.column_config.NumberColumn("Jobs", format="%d"),
        },
    )


def operations_tab(data: dict) -> None:
    chart("Jobs per day by outcome", runs_per_day(data["runs_per_day"]), "No job in this period.")
    left, right = st.columns(2)
    with left:
        chart("Why jobs failed", failed_jobs(data["failed_jobs"]), "No job failed in this period.")
    with right:
        chart("Failed attempts by step", failed_attempts(data["failure_reasons"]), "No failed attempt in this period.")
    left, right = st.columns(2)
    with left:
        chart("Step durations", step_durations(data["step_durations"]), "No step finished in this period.")
    with right:
        usage_table(data["usage"])


# --- The page ----------------------------------------------------------------------------

st.title("Analytics")
scope_column, days_column = st.columns(2)
everyone = scope_column.toggle("All workspaces", value=False, key="analytics_all")
days = days_column.segmented_control(
    "Period", [7, 30, 90, 365], default=30, key="analytics_days", format_func="{} days".format
)
shift = -(st.context.timezone_offset or 0)  # the browser's offset is minutes behind UTC
data = views.analytics(None if everyone else workspace(), days or 30, shift_minutes=shift, caller=caller())
scope = "all workspaces" if everyone else f"workspace {workspace()}"
st.caption(literal(f"The last {days or 30} days, {scope}; days and weeks in your time zone ({zone_name()})."))
tabs = st.tabs(["Your content", "Operations"], key="analytics_tab", on_change="rerun")
for tab, render in zip(tabs, [content_tab, operations_tab], strict=True):
    with tab:
        if tab.open:  # only the open tab's charts are drawn
            render(data)
