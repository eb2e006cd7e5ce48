"""What prompt experiments read from past runs: jobs with transcripts, editors' decisions, the
drafts the pipeline generated and what editors left of them."""

from __future__ import annotations

import json

from pipeline.models import Draft
from pipeline.stages import JobStatus
from pipeline.store import Database

__all__ = ["reviewed_jobs", "flag_reason", "generated_drafts", "recent_jobs"]


def reviewed_jobs(db: Database) -> list[dict]:
    """Every job an editor decided on, with the latest decision, oldest decision first."""
    rows = db.rows(
        """SELECT r.job_id, r.run_id, r.decision, r.reason, r.editor, r.created_at AS decided_at,
                  j.title, j.source, j.options, j.qa_score, j.status
           FROM reviews r JOIN jobs j USING (job_id)
           WHERE r.id = (SELECT max(x.id) FROM reviews x WHERE x.job_id = r.job_id)
           ORDER BY r.created_at, r.id"""
    )
    for row in rows:
        row["options"] = json.loads(row["options"])
    return rows


def flag_reason(db: Database, job_id: str) -> str | None:
    """Why QA sent the job to an editor (the last time it did)."""
    return db.scalar(
        "SELECT reason FROM status_changes WHERE job_id = ? AND to_status = ? ORDER BY id DESC LIMIT 1",
        [job_id, JobStatus.REQUIRES_MANUAL_REVIEW.value],
    )


def generated_drafts(db: Database, job_id: str, run_id: str | None = None) -> dict[str, dict]:
    """format -> the draft the pipeline generated (in ``run_id`` when it made one, else its
    latest generated or regenerated draft), with the prompt that made it."""
    rows = db.rows(
        """SELECT d.*, a.prompt_name, a.prompt_version FROM draft_versions d
           LEFT JOIN artifacts a ON a.run_id = d.run_id AND a.kind = 'draft:' || d.format
           WHERE d.job_id = ? AND d.source IN ('generated', 'regenerated')
           ORDER BY d.format, CASE WHEN d.run_id = ? THEN 0 ELSE 1 END, d.version DESC""",
        [job_id, run_id],
    )
    chosen: dict[str, dict] = {}
    for row in rows:
        if row["format"] not in chosen:
            posts = json.loads(row["posts"]) if row["posts"] else []
            row["draft"] = Draft(format=row["format"], title=row["title"], body=row["body"], posts=posts)
            chosen[row["format"]] = row
    return chosen


def recent_jobs(db: Database, limit: int) -> list[dict]:
    """The newest jobs that have a transcript, with their latest editor decision if any."""
    rows = db.rows(
        """SELECT j.job_id, j.title, j.source, j.options, j.status, j.created_at, r.decision, r.reason
           FROM jobs j LEFT JOIN reviews r ON r.job_id = j.job_id
                AND r.id = (SELECT max(x.id) FROM reviews x WHERE x.job_id = j.job_id)
           WHERE EXISTS (SELECT 1 FROM artifacts a WHERE a.job_id = j.job_id AND a.kind = 'transcript')
           ORDER BY j.created_at DESC LIMIT ?""",
        [limit],
    )
    for row in rows:
        row["options"] = json.loads(row["options"])
    return rows
