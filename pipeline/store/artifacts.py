"""Artifacts (outputs of steps, keyed by run, step and kind), draft versions and run logs."""

from __future__ import annotations

import json

from pipeline.errors import Conflict, NotFound
from pipeline.models import Draft, Provenance
from pipeline.store.base import Database, dumps, transaction, utcnow

__all__ = [
    "save_artifact",
    "load_artifact",
    "latest_artifacts",
    "add_draft_version",
    "latest_drafts",
    "draft_history",
    "add_logs",
    "run_logs",
]


def save_artifact(
    db: Database,
    *,
    job_id: str,
    run_id: str,
    step: str,
    kind: str,
    content: str,
    fmt: str = "json",
    provenance: Provenance | None = None,
) -> None:
    """Insert or replace: a step that runs twice leaves one copy of each output."""
    p = provenance or Provenance(provider="pipeline", model="-")
    db.execute(
        """INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            job_id,
            run_id,
            step,
            kind,
            fmt,
            content,
            len(content),
            p.provider,
            p.model,
            p.prompt_name,
            p.prompt_version,
            p.tokens_in,
            p.tokens_out,
            p.cost_usd,
            p.latency_ms,
            utcnow(),
        ],
    )


@transaction(writes=False)
def load_artifact(db: Database, job_id: str, kind: str) -> dict | None:
    """The newest artifact of a kind for a job, whichever run made it."""
    return db.row(
        """SELECT a.* FROM artifacts a JOIN job_runs r ON r.run_id = a.run_id
           WHERE a.job_id = ? AND a.kind = ? ORDER BY r.seq DESC, a.created_at DESC LIMIT 1""",
        [job_id, kind],
    )


@transaction(writes=False)
def latest_artifacts(db: Database, job_id: str, *, content: bool = True) -> list[dict]:
    """The newest artifact of each kind; without ``content`` only what describes them (cheap)."""
    dropped = "rank" if content else "rank, content"
    return db.rows(
        f"""SELECT * EXCLUDE ({dropped}) FROM (
               SELECT a.*, row_number() OVER (PARTITION BY a.kind ORDER BY r.seq DESC, a.created_at DESC) AS rank
               FROM artifacts a JOIN job_runs r ON r.run_id = a.run_id WHERE a.job_id = ?)
           WHERE rank = 1 ORDER BY created_at, kind""",
        [job_id],
    )


def add_draft_version(
    db: Database,
    job_id: str,
    draft: Draft,
    *,
    source: str,
    author: str,
    run_id: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
    label: str | None = None,
) -> int:
    """Append a version. A generated or auto-fixed version is made once per run (idempotent);
    an edit based on ``expected_version`` fails with :class:`Conflict` if another save came
    first, so nobody overwrites a colleague's edit unknowingly."""
    fmt = draft.format
    if source != "edit" and run_id:
        existing = db.scalar(
            "SELECT version FROM draft_versions WHERE job_id = ? AND format = ? AND run_id = ? AND source = ?",
            [job_id, fmt, run_id, source],
        )
        if existing:
            return existing
    current = db.scalar("SELECT max(version) FROM draft_versions WHERE job_id = ? AND format = ?", [job_id, fmt]) or 0
    if expected_version is not None and current != expected_version:
        raise Conflict(
            f"the {label or draft.format} draft was saved by someone else (version {current}) after you opened "
            f"version {expected_version}; reload to see their changes, then apply yours again"
        )
    db.execute(
        "INSERT INTO draft_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [job_id, fmt, current + 1, draft.title, draft.body, dumps(draft.posts), source, author, run_id, note, utcnow()],
    )
    return current + 1


def _draft_row(row: dict) -> dict:
    row["posts"] = json.loads(row["posts"]) if row["posts"] else []
    row["draft"] = Draft(format=row["format"], title=row["title"], body=row["body"], posts=row["posts"])
    return row


@transaction(writes=False)
def latest_drafts(db: Database, job_id: str) -> dict[str, dict]:
    rows = db.rows(
        """SELECT * FROM draft_versions d WHERE job_id = ? AND version =
             (SELECT max(version) FROM draft_versions x WHERE x.job_id = d.job_id AND x.format = d.format)""",
        [job_id],
    )
    return {row["format"]: _draft_row(row) for row in rows}


@transaction(writes=False)
def draft_history(db: Database, job_id: str, fmt: str) -> list[dict]:
    rows = db.rows("SELECT * FROM draft_versions WHERE job_id = ? AND format = ? ORDER BY version", [job_id, fmt])
    if not rows:
        raise NotFound(f"job {job_id} has no {fmt} draft")
    return [_draft_row(row) for row in rows]


def add_logs(db: Database, lines: list[tuple]) -> None:
    """``lines``: (job_id, run_id, step, attempt, logged_at, level, message)."""
    if lines:
        db.connection.executemany(
            "INSERT INTO run_logs (job_id, run_id, step, attempt, logged_at, level, message) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            lines,
        )


@transaction(writes=False)
def run_logs(db: Database, job_id: str) -> list[dict]:
    return db.rows("SELECT * FROM run_logs WHERE job_id = ? ORDER BY logged_at, id", [job_id])
