"""Step attempts (``run_steps``): one row per attempt, moved only by compare-and-set updates so
that a worker, a retry and the reconciler racing on one attempt cannot both win."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.store.base import Database, transaction, utcnow

__all__ = [
    "queue_attempt",
    "claim_attempt",
    "finish_attempt",
    "end_attempt",
    "promote_scheduled",
    "pending_attempts",
    "step_done",
    "steps_done",
    "cancel_pending",
    "attempts_for_job",
    "last_failed_step",
    "attempt_status",
]

PENDING = ("scheduled", "queued", "running")


def queue_attempt(
    db: Database, *, run_id: str, job_id: str, step: str, attempt: int | None = None, delay_s: float = 0
) -> dict:
    """Record that an attempt should run (now, or after ``delay_s`` for a retry). Without an
    ``attempt`` number it takes the next one for this step in this run."""
    now = utcnow()
    not_before = now + timedelta(seconds=delay_s) if delay_s > 0 else None
    status = "scheduled" if not_before else "queued"
    return db.row(
        """INSERT INTO run_steps (run_id, job_id, step, attempt, status, queued_at, not_before)
           SELECT ?, ?, ?, coalesce(?, (SELECT max(attempt) FROM run_steps WHERE run_id = ? AND step = ?), 0) + ?,
                  ?, ?, ?
           RETURNING *""",
        [run_id, job_id, step, attempt, run_id, step, 0 if attempt is not None else 1, status, now, not_before],
    )


def claim_attempt(db: Database, attempt_id: int, worker: str) -> dict | None:
    """queued -> running. None when the attempt is not queued any more (duplicate delivery,
    already taken, cancelled) or when the step is already done in this run."""
    claimed = db.row(
        "UPDATE run_steps SET status = 'running', started_at = ?, worker = ? WHERE id = ? AND status = 'queued' "
        "RETURNING *",
        [utcnow(), worker, attempt_id],
    )
    if claimed is not None and step_done(db, claimed["run_id"], claimed["step"]):
        end_attempt(db, attempt_id, "cancelled", code=None, message="step already done")
        return None
    return claimed


def finish_attempt(db: Database, attempt_id: int, body_ms: float) -> bool:
    """running -> done; False when someone else ended the attempt first (reconciler, cancel)."""
    return _move(db, attempt_id, "running", "done", body_ms=body_ms)


def end_attempt(
    db: Database, attempt_id: int, status: str, *, code: str | None, message: str | None, expect: str = "running"
) -> bool:
    """running -> failed | lost | cancelled, with the error."""
    return _move(db, attempt_id, expect, status, error_code=code, error_message=message)


def _move(db: Database, attempt_id: int, expect: str, status: str, **fields) -> bool:
    """One compare-and-set: only an attempt still in ``expect`` moves."""
    fields["finished_at"] = utcnow()
    assignments = ", ".join(f"{name} = ?" for name in fields)
    moved = db.row(
        f"UPDATE run_steps SET status = ?, {assignments} WHERE id = ? AND status = ? RETURNING id",
        [status, *fields.values(), attempt_id, expect],
    )
    return moved is not None


def promote_scheduled(db: Database, attempt_id: int) -> bool:
    """scheduled -> queued once its backoff has passed."""
    current = db.row("SELECT status, not_before FROM run_steps WHERE id = ?", [attempt_id])
    if not current or current["status"] != "scheduled" or current["not_before"] > utcnow():
        return False
    db.execute("UPDATE run_steps SET status = 'queued', queued_at = ? WHERE id = ?", [utcnow(), attempt_id])
    return True


@transaction(writes=False)
def pending_attempts(db: Database) -> list[dict]:
    return db.rows("SELECT * FROM run_steps WHERE status IN ('scheduled', 'queued', 'running') ORDER BY queued_at, id")


def steps_done(db: Database, run_id: str, steps: list[str]) -> bool:
    """Are all these steps done in this run (the join of a fan-out)?"""
    marks = ", ".join("?" for _ in steps)
    done = db.scalar(
        f"SELECT count(DISTINCT step) FROM run_steps WHERE run_id = ? AND status = 'done' AND step IN ({marks})",
        [run_id, *steps],
    )
    return done == len(set(steps))


def step_done(db: Database, run_id: str, step: str) -> bool:
    return bool(
        db.scalar("SELECT count(*) FROM run_steps WHERE run_id = ? AND step = ? AND status = 'done'", [run_id, step])
    )


def cancel_pending(db: Database, job_id: str, reason: str) -> int:
    rows = db.rows(
        "SELECT id, status FROM run_steps WHERE job_id = ? AND status IN ('scheduled', 'queued', 'running')", [job_id]
    )
    for row in rows:
        end_attempt(db, row["id"], "cancelled", code="CANCELLED", message=reason, expect=row["status"])
    return len(rows)


def last_failed_step(db: Database, job_id: str) -> str | None:
    return db.scalar(
        "SELECT step FROM run_steps WHERE job_id = ? AND status = 'failed' ORDER BY finished_at DESC, id DESC LIMIT 1",
        [job_id],
    )


def attempt_status(db: Database, attempt_id: int) -> str | None:
    return db.scalar("SELECT status FROM run_steps WHERE id = ?", [attempt_id])


@transaction(writes=False)
def attempts_for_job(db: Database, job_id: str) -> list[dict]:
    return db.rows("SELECT * FROM run_steps WHERE job_id = ? ORDER BY queued_at, id", [job_id])


def age_s(moment: datetime | None) -> float:
    return (utcnow() - moment).total_seconds() if moment else 0.0
