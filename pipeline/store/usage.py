"""Workspaces, plans, usage rows and webhook deliveries."""

from __future__ import annotations

from pipeline import defaults
from pipeline.errors import InvalidInput, NotFound
from pipeline.models import UsageRecord, WebhookResult, WorkspaceInfo
from pipeline.plans import PlanStatus
from pipeline.store import Database, utcnow

__all__ = [
    "COUNTS_AGAINST_PLAN",
    "get_workspace",
    "ensure_workspace",
    "configure_workspace",
    "list_workspaces",
    "plan_status",
    "job_costs",
    "record_usage",
    "reserve_minutes",
    "release_minutes",
    "set_webhook_key",
    "record_webhook",
    "webhook_delivery",
]


#: A condition on ``job_id``: the job's usage counts against its plan (it is not exempt).
COUNTS_AGAINST_PLAN = "job_id NOT IN (SELECT job_id FROM plan_exempt_jobs)"


def get_workspace(db: Database, name: str) -> WorkspaceInfo:
    row = db.row("SELECT name, plan, webhook_url, webhook_key_id FROM workspaces WHERE name = ?", [name])
    if row is None:
        raise NotFound(f"no workspace named {name!r}")
    return WorkspaceInfo(**row)


def ensure_workspace(db: Database, name: str, plan: str | None = None) -> WorkspaceInfo:
    """The workspace, created on first use on the default plan."""
    if not db.scalar("SELECT count(*) FROM workspaces WHERE name = ?", [name]):
        db.execute(
            "INSERT INTO workspaces (name, plan, created_at) VALUES (?, ?, ?)",
            [name, plan or defaults.DEFAULT_PLAN, utcnow()],
        )
    return get_workspace(db, name)


def configure_workspace(
    db: Database, name: str, *, plan: str | None = None, webhook_url: str | None = None, clear_webhook: bool = False
) -> WorkspaceInfo:
    ensure_workspace(db, name)
    if plan is not None:
        if not db.scalar("SELECT count(*) FROM plans WHERE name = ?", [plan]):
            known = ", ".join(r["name"] for r in db.rows("SELECT name FROM plans ORDER BY monthly_minutes"))
            raise InvalidInput(f"no plan named {plan!r} (plans: {known})")
        db.execute("UPDATE workspaces SET plan = ? WHERE name = ?", [plan, name])
    if webhook_url is not None or clear_webhook:
        db.execute("UPDATE workspaces SET webhook_url = ? WHERE name = ?", [webhook_url, name])
    return get_workspace(db, name)


def set_webhook_key(db: Database, name: str, key_id: str) -> None:
    db.execute("UPDATE workspaces SET webhook_key_id = ? WHERE name = ?", [key_id, name])


def list_workspaces(db: Database) -> list[dict]:
    return db.rows(
        "SELECT w.*, p.monthly_minutes, p.max_video_minutes FROM workspaces w JOIN plans p ON p.name = w.plan "
        "ORDER BY w.name"
    )


def plan_status(db: Database, workspace: str, *, exclude_job: str | None = None) -> PlanStatus:
    """Plan limits and minutes used this calendar month (UTC)."""
    row = db.row(
        """SELECT w.name AS workspace, w.plan, p.monthly_minutes, p.max_video_minutes
           FROM workspaces w JOIN plans p ON p.name = w.plan WHERE w.name = ?""",
        [workspace],
    )
    if row is None:
        raise NotFound(f"no workspace named {workspace!r}")
    used = db.scalar(  # a job counts once: its largest usage row (re-runs) or what it holds reserved
        f"""SELECT coalesce(sum(minutes), 0) FROM (
               SELECT job_id, max(minutes) AS minutes FROM (
                   SELECT job_id, minutes FROM usage
                   WHERE workspace = ? AND recorded_at >= date_trunc('month', ?::TIMESTAMP)
                   UNION ALL
                   SELECT job_id, minutes FROM quota_reservations WHERE workspace = ?)
               WHERE job_id IS DISTINCT FROM ? AND {COUNTS_AGAINST_PLAN} GROUP BY job_id)""",
        [workspace, utcnow(), workspace, exclude_job],
    )
    return PlanStatus(**row, used_minutes=float(used))


def reserve_minutes(db: Database, workspace: str, job_id: str, minutes: float) -> None:
    """Hold ``minutes`` of the workspace's plan for a job (the checks before it and this write
    run in one transaction, so two jobs cannot both take the last minutes)."""
    db.execute("INSERT OR REPLACE INTO quota_reservations VALUES (?, ?, ?, ?)", [job_id, workspace, minutes, utcnow()])


def release_minutes(db: Database, job_id: str) -> None:
    """A job that ended without delivery gives its minutes back; a delivered one is counted by
    its usage row from now on."""
    db.execute("DELETE FROM quota_reservations WHERE job_id = ?", [job_id])


def job_costs(db: Database, job_id: str) -> dict:
    row = db.row(
        """SELECT coalesce(sum(tokens_in), 0) AS tokens_in, coalesce(sum(tokens_out), 0) AS tokens_out,
                  coalesce(sum(cost_usd), 0) AS cost_usd
           FROM artifacts a JOIN job_runs r ON r.run_id = a.run_id WHERE a.job_id = ?""",
        [job_id],
    )
    return {
        "tokens_in": int(row["tokens_in"]),
        "tokens_out": int(row["tokens_out"]),
        "cost_usd": float(row["cost_usd"]),
    }


def record_usage(db: Database, run_id: str, job_id: str, usage: UsageRecord) -> None:
    workspace = db.scalar("SELECT workspace FROM jobs WHERE job_id = ?", [job_id])
    db.execute(
        "INSERT OR REPLACE INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, job_id, workspace, usage.minutes, usage.tokens_in, usage.tokens_out, usage.cost_usd, utcnow()],
    )
    release_minutes(db, job_id)  # the usage row counts from now on


def record_webhook(db: Database, run_id: str, job_id: str, result: WebhookResult) -> None:
    if result.status == "skipped":
        return  # the first delivery's row stays
    db.execute(
        "INSERT OR REPLACE INTO webhook_deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            job_id,
            result.url,
            result.event_id,
            result.status,
            result.attempts,
            result.response_code,
            result.error,
            utcnow(),
        ],
    )


def webhook_delivery(db: Database, run_id: str) -> dict | None:
    return db.row("SELECT * FROM webhook_deliveries WHERE run_id = ?", [run_id])
