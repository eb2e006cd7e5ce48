"""The SQL behind the pages (``pipeline.views``): one page of jobs with its filters, what a run's
detail page shows, the review queue, and the analytics frames.

Every function takes an open :class:`~pipeline.store.Database`, so a page opens one session for
everything one render needs.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from pipeline.stages import DONE, FAILED, TERMINAL, WAITING, JobStatus, statuses
from pipeline.store.base import Database, transaction, utcnow
from pipeline.store.usage import COUNTS_AGAINST_PLAN

__all__ = [
    "JobFilter",
    "jobs_page",
    "status_counts",
    "current_runs",
    "pending_steps",
    "draft_versions",
    "draft_formats",
    "reviews_for",
    "usage_for",
    "review_queue",
    "recent_reviews",
    "runs_per_day",
    "step_durations",
    "failure_reasons",
    "usage_per_workspace",
    "qa_scores",
    "content_per_week",
    "minutes_per_day",
    "plan_use_per_workspace",
    "failed_jobs",
    "cost_per_minute",
]

#: The status a job waits in for an editor.
_IN_REVIEW = JobStatus.REQUIRES_MANUAL_REVIEW.value
PENDING_ATTEMPT = ("scheduled", "queued", "running")


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


#: One workspace, several (a caller's memberships), or None: every workspace.
Workspaces = str | tuple[str, ...] | list[str] | None


def _workspace_clause(workspace: Workspaces, column: str = "j.workspace") -> tuple[str, list]:
    """A condition on ``column`` (``TRUE`` for every workspace, ``FALSE`` for none)."""
    if workspace is None:
        return "TRUE", []
    names = (workspace,) if isinstance(workspace, str) else tuple(workspace)
    if not names:
        return "FALSE", []
    return f"{column} IN ({_marks(names)})", list(names)


class JobFilter:
    """A WHERE clause over ``jobs`` (aliased ``j``): workspaces, statuses, and a text that matches
    the id, the title or the source."""

    def __init__(self, workspace: Workspaces = None, statuses: tuple[str, ...] = (), text: str = ""):
        self.workspace = workspace
        self.statuses = tuple(statuses)
        self.text = text.strip()

    def sql(self, *, with_statuses: bool = True) -> tuple[str, list]:
        clauses, params = [], []
        if self.workspace is not None:
            clause, names = _workspace_clause(self.workspace)
            clauses.append(clause)
            params.extend(names)
        if with_statuses and self.statuses:
            clauses.append(f"j.status IN ({', '.join('?' for _ in self.statuses)})")
            params.extend(self.statuses)
        if self.text:
            like = "%" + self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append(
                "(j.job_id ILIKE ? ESCAPE '\\' OR coalesce(j.title, '') ILIKE ? ESCAPE '\\' "
                "OR j.source ILIKE ? ESCAPE '\\')"
            )
            params.extend([like, like, like])
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def jobs_page(db: Database, where: JobFilter, *, limit: int, offset: int) -> list[dict]:
    """Newest first. ``took_s`` is the time from submission to the last status change (or to now
    while the job is active); ``approved_by`` names the editor who approved the job's drafts."""
    clause, params = where.sql()
    terminal = statuses(TERMINAL)
    marks = _marks(terminal)
    return db.rows(
        f"""SELECT j.job_id, j.title, j.source, j.source_kind, j.workspace, j.status, j.status_reason,
                   j.error_code, j.qa_score, j.duration_s, j.created_at, j.updated_at,
                   epoch(CASE WHEN j.status IN ({marks}) THEN j.updated_at ELSE ?::TIMESTAMP END - j.created_at)
                       AS took_s,
                   (SELECT r.editor FROM reviews r WHERE r.job_id = j.job_id AND r.decision = 'approved'
                    ORDER BY r.id DESC LIMIT 1) AS approved_by
            FROM jobs j {clause}
            ORDER BY j.created_at DESC, j.job_id DESC LIMIT ? OFFSET ?""",
        [*terminal, utcnow(), *params, limit, offset],
    )


def status_counts(db: Database, where: JobFilter) -> dict[str, int]:
    """Jobs per status under the filter's workspace and text (not its statuses), so a status
    filter can show how many each choice holds and the page total is their sum."""
    clause, params = where.sql(with_statuses=False)
    rows = db.rows(f"SELECT j.status, count(*) AS n FROM jobs j {clause} GROUP BY j.status", params)
    return {row["status"]: int(row["n"]) for row in rows}


def current_runs(db: Database, job_ids: list[str]) -> dict[str, str]:
    """job id -> its latest run id."""
    if not job_ids:
        return {}
    marks = ", ".join("?" for _ in job_ids)
    rows = db.rows(
        f"""SELECT job_id, run_id FROM job_runs WHERE job_id IN ({marks})
            QUALIFY row_number() OVER (PARTITION BY job_id ORDER BY seq DESC) = 1""",
        job_ids,
    )
    return {row["job_id"]: row["run_id"] for row in rows}


def pending_steps(db: Database, run_ids: list[str]) -> dict[str, list[dict]]:
    """run id -> its attempts that wait or run (step, status, attempt)."""
    if not run_ids:
        return {}
    rows = db.rows(
        f"""SELECT run_id, step, status, attempt FROM run_steps
            WHERE run_id IN ({_marks(run_ids)}) AND status IN ({_marks(PENDING_ATTEMPT)}) ORDER BY id""",
        [*run_ids, *PENDING_ATTEMPT],
    )
    found: dict[str, list[dict]] = {}
    for row in rows:
        found.setdefault(row.pop("run_id"), []).append(row)
    return found


def draft_versions(db: Database, job_id: str) -> list[dict]:
    """Every version of every draft of a job, oldest first within a format."""
    return db.rows("SELECT * FROM draft_versions WHERE job_id = ? ORDER BY format, version", [job_id])


def draft_formats(db: Database, job_id: str) -> list[str]:
    """The formats a job has drafts of."""
    return [row["format"] for row in db.rows("SELECT DISTINCT format FROM draft_versions WHERE job_id = ?", [job_id])]


def reviews_for(db: Database, job_id: str) -> list[dict]:
    return db.rows("SELECT * FROM reviews WHERE job_id = ? ORDER BY id", [job_id])


def usage_for(db: Database, job_id: str) -> list[dict]:
    return db.rows("SELECT * FROM usage WHERE job_id = ? ORDER BY recorded_at", [job_id])


# --- Review ------------------------------------------------------------------------------


@transaction(writes=False)
def review_queue(db: Database, workspace: Workspaces = None) -> list[dict]:
    """Jobs waiting for an editor, the longest-waiting first (by when they entered review)."""
    clause, params = _workspace_clause(workspace)
    clause = f"AND {clause}"
    return db.rows(
        f"""SELECT j.job_id, j.title, j.source, j.workspace, j.qa_score, j.status_reason, j.created_at,
                   (SELECT max(c.changed_at) FROM status_changes c
                    WHERE c.job_id = j.job_id AND c.to_status = ?) AS waiting_since
            FROM jobs j WHERE j.status = ? {clause}
            ORDER BY waiting_since, j.created_at""",
        [_IN_REVIEW, _IN_REVIEW, *params],
    )


@transaction(writes=False)
def recent_reviews(db: Database, workspace: Workspaces = None, limit: int = 20) -> list[dict]:
    """The latest decisions with the job's status now (an approved job moves on to delivery)."""
    clause, params = _workspace_clause(workspace)
    clause = f"WHERE {clause}"
    return db.rows(
        f"""SELECT r.job_id, j.title, r.decision, r.reason, r.editor, r.created_at, j.status
            FROM reviews r JOIN jobs j ON j.job_id = r.job_id {clause}
            ORDER BY r.id DESC LIMIT ?""",
        [*params, limit],
    )


# --- Analytics ---------------------------------------------------------------------------


def _since(workspace: Workspaces, since: datetime, column: str) -> tuple[str, list]:
    scope, names = _workspace_clause(workspace)
    return f"WHERE {column} >= ? AND {scope}", [since, *names]


def runs_per_day(db: Database, workspace: Workspaces, since: datetime, shift_minutes: int = 0) -> pd.DataFrame:
    """Jobs submitted per day (the viewer's days: ``shift_minutes`` from UTC) by how they ended
    (or that they have not yet)."""
    clause, params = _since(workspace, since, "j.created_at")
    failed, waiting = statuses(FAILED), statuses(WAITING)
    return db.frame(
        f"""SELECT (j.created_at + to_minutes(?))::DATE AS day,
                   CASE WHEN j.status = ? THEN 'delivered'
                        WHEN j.status IN ({_marks(failed)}) THEN 'failed'
                        WHEN j.status IN ({_marks(waiting)}) THEN 'waiting for a person'
                        ELSE 'in progress' END AS outcome,
                   count(*) AS jobs
            FROM jobs j {clause} GROUP BY ALL ORDER BY day, outcome""",
        [shift_minutes, DONE.value, *failed, *waiting, *params],
    )


def step_durations(db: Database, workspace: Workspaces, since: datetime) -> pd.DataFrame:
    """p50/p95 seconds of successful attempts per step (draft formats kept apart)."""
    clause, params = _since(workspace, since, "s.started_at")
    return db.frame(
        f"""SELECT s.step, count(*) AS attempts,
                   quantile_cont(epoch(s.finished_at - s.started_at), 0.5) AS p50_s,
                   quantile_cont(epoch(s.finished_at - s.started_at), 0.95) AS p95_s
            FROM run_steps s JOIN jobs j ON j.job_id = s.job_id
            {clause} AND s.status = 'done' AND s.finished_at IS NOT NULL
            GROUP BY s.step ORDER BY p50_s DESC""",
        params,
    )


def failure_reasons(db: Database, workspace: Workspaces, since: datetime) -> pd.DataFrame:
    """Failed attempts by error code and step, whether or not a retry saved the job."""
    clause, params = _since(workspace, since, "s.queued_at")
    return db.frame(
        f"""SELECT coalesce(s.error_code, 'UNKNOWN') AS error_code, s.step, count(*) AS attempts
            FROM run_steps s JOIN jobs j ON j.job_id = s.job_id
            {clause} AND s.status IN ('failed', 'lost')
            GROUP BY ALL ORDER BY attempts DESC""",
        params,
    )


def usage_per_workspace(db: Database, workspace: Workspaces, since: datetime) -> pd.DataFrame:
    """Minutes (a job re-run counts once) and estimated cost per workspace."""
    clause, params = _since(workspace, since, "u.recorded_at")
    return db.frame(
        f"""SELECT workspace, sum(minutes) AS minutes, sum(cost_usd) AS cost_usd, count(*) AS jobs FROM (
                SELECT u.workspace, u.job_id, max(u.minutes) AS minutes, sum(u.cost_usd) AS cost_usd
                FROM usage u JOIN jobs j ON j.job_id = u.job_id {clause} GROUP BY ALL)
            GROUP BY workspace ORDER BY minutes DESC""",
        params,
    )


def qa_scores(db: Database, workspace: Workspaces, since: datetime) -> pd.DataFrame:
    """The lowest draft score of each reviewed job, with whether QA sent it to an editor."""
    clause, params = _since(workspace, since, "j.created_at")
    return db.frame(
        f"""SELECT j.job_id, j.qa_score,
                   EXISTS (SELECT 1 FROM status_changes c WHERE c.job_id = j.job_id
                           AND c.to_status = ?) AS flagged
            FROM jobs j {clause} AND j.qa_score IS NOT NULL""",
        [_IN_REVIEW, *params],
    )


def content_per_week(db: Database, workspace: Workspaces, since: datetime, shift_minutes: int = 0) -> pd.DataFrame:
    """Drafts that went out per week (the viewer's weeks: ``shift_minutes`` from UTC) and format:
    how many were delivered, how many of those an editor approved, and how many a person edited
    before they went out."""
    clause, params = _since(workspace, since, "c.changed_at")
    delivered = JobStatus.DELIVERED.value
    return db.frame(
        f"""WITH delivered AS (
                SELECT c.job_id, max(c.changed_at) AS delivered_at
                FROM status_changes c JOIN jobs j ON j.job_id = c.job_id
                {clause} AND c.to_status = ? GROUP BY c.job_id),
            drafts AS (SELECT DISTINCT d.job_id, d.format FROM draft_versions d JOIN delivered USING (job_id)),
            approved AS (SELECT DISTINCT job_id FROM reviews WHERE decision = 'approved'),
            edited AS (
                SELECT DISTINCT d.job_id, d.format FROM draft_versions d JOIN delivered x USING (job_id)
                WHERE d.source = 'edit' AND d.created_at <= x.delivered_at)
            SELECT date_trunc('week', x.delivered_at + to_minutes(?))::DATE AS week, d.format,
                   count(*) AS delivered, count(a.job_id) AS approved, count(e.job_id) AS edited
            FROM drafts d JOIN delivered x USING (job_id)
            LEFT JOIN approved a USING (job_id) LEFT JOIN edited e USING (job_id, format)
            GROUP BY ALL ORDER BY week, d.format""",
        [*params, delivered, shift_minutes],
    )


def minutes_per_day(db: Database, workspace: str, since: datetime, shift_minutes: int = 0) -> pd.DataFrame:
    """Plan minutes a workspace used per day since then (a job re-run counts once, on its
    first day; a sample run not at all)."""
    return db.frame(
        f"""SELECT (first_at + to_minutes(?))::DATE AS day, sum(minutes) AS minutes FROM (
               SELECT u.job_id, max(u.minutes) AS minutes, min(u.recorded_at) AS first_at FROM usage u
               WHERE u.workspace = ? AND u.recorded_at >= ? AND u.{COUNTS_AGAINST_PLAN} GROUP BY u.job_id)
           GROUP BY ALL ORDER BY day""",
        [shift_minutes, workspace, since],
    )


def plan_use_per_workspace(db: Database, workspace: Workspaces, since: datetime) -> pd.DataFrame:
    """Each workspace's plan, its monthly minutes and what counted against it since then."""
    clause, params = _workspace_clause(workspace, "w.name")
    clause = f"WHERE {clause}"
    return db.frame(
        f"""SELECT w.name AS workspace, w.plan, p.monthly_minutes, coalesce(sum(u.minutes), 0) AS used_minutes
            FROM workspaces w JOIN plans p ON p.name = w.plan
            LEFT JOIN (SELECT workspace, job_id, max(minutes) AS minutes FROM usage
                       WHERE recorded_at >= ? AND {COUNTS_AGAINST_PLAN} GROUP BY ALL) u ON u.workspace = w.name
            {clause} GROUP BY ALL ORDER BY used_minutes DESC, w.name""",
        [since, *params],
    )


def failed_jobs(db: Database, workspace: Workspaces, since: datetime) -> pd.DataFrame:
    """Jobs that ended failed (not attempts a retry saved), by error code."""
    clause, params = _since(workspace, since, "j.created_at")
    failed = statuses(FAILED)
    return db.frame(
        f"""SELECT coalesce(j.error_code, 'UNKNOWN') AS error_code, count(*) AS jobs
            FROM jobs j {clause} AND j.status IN ({_marks(failed)}) GROUP BY ALL ORDER BY jobs DESC""",
        [*params, *failed],
    )


def cost_per_minute(db: Database, since: datetime) -> float | None:
    """What a processed minute cost on average since then; None before the first paid run."""
    row = db.row("SELECT sum(cost_usd) AS cost, sum(minutes) AS minutes FROM usage WHERE recorded_at >= ?", [since])
    if not row or not row["minutes"] or not row["cost"]:
        return None
    return float(row["cost"]) / float(row["minutes"])
