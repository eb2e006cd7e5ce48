"""The transactions that move a run along: claim an attempt with its inputs, complete it with
its outputs, fail it, and the stage bookkeeping between (queue a stage, advance past a finished
one, end a job). Each function runs inside one store session and returns plain data — the
attempts to enqueue on Redis once the transaction has committed.

The pipeline's shape comes from the table (``pipeline.stages``) this process is configured with
(``CLIPINSIGHT_PIPELINE``; the storekeeper and its workers share the setting).
"""

from __future__ import annotations

from pipeline.errors import ErrorCode, StepError, backoff_delay, should_retry
from pipeline.models import Draft, Provenance, UsageRecord, WebhookResult
from pipeline.plans import check_quota
from pipeline.settings import get_settings
from pipeline.stages import JobStatus, Move, Pipeline, load_pipeline
from pipeline.store import artifacts as artifact_rows
from pipeline.store import jobs as job_rows
from pipeline.store import steps as step_rows
from pipeline.store import usage as usage_rows
from pipeline.store.base import Database, transaction, utcnow
from pipeline.store.inputs import load_inputs

__all__ = ["queue_stage", "advance", "fail_job", "claim", "load_step_inputs", "complete", "fail", "resume"]


def _pipeline() -> Pipeline:
    return load_pipeline(get_settings().pipeline)


def queue_stage(db: Database, job: dict, run_id: str, stage: str) -> list[dict]:
    """Queue every step of ``stage`` for this run (one per format for a fan-out; a run that
    regenerates some drafts, one per format it regenerates)."""
    options = job_rows.run_options(db, job, run_id)
    return [
        step_rows.queue_attempt(db, run_id=run_id, job_id=job["job_id"], step=step)
        for step in _pipeline().steps_of(stage, options)
    ]


def advance(db: Database, job: dict, run_id: str, stage: str) -> list[dict]:
    """The stage is done in this run (all its steps): move the status, queue the next stage."""
    pipeline = _pipeline()
    options = job_rows.run_options(db, job, run_id)
    if not step_rows.steps_done(db, run_id, pipeline.steps_of(stage, options)):
        return []  # the other steps of the fan-out are still running
    for status in pipeline.stage(stage).statuses:
        job_rows.set_status(db, job["job_id"], status, run_id=run_id)
    following = pipeline.next(stage)
    if following is None:
        job_rows.finish_run(db, run_id)
        return []
    return queue_stage(db, job, run_id, following.name)


def fail_job(
    db: Database,
    job_id: str,
    run_id: str,
    status: JobStatus,
    error: StepError,
    *,
    move: Move = Move.STEP,
    actor: str = "system",
) -> None:
    """End a job: cancel what is still pending, record the status with its reason, close the run.
    Steps end jobs this way, and so do people (cancel, reject)."""
    step_rows.cancel_pending(db, job_id, reason=f"the job ended: {error.code.value}")
    usage_rows.release_minutes(db, job_id)
    job_rows.set_status(
        db, job_id, status, move=move, reason=error.message, error_code=error.code.value, run_id=run_id, actor=actor
    )
    job_rows.finish_run(db, run_id)


def resume(
    db: Database,
    job: dict,
    waiting: JobStatus,
    *,
    reason: str,
    actor: str,
    run_id: str,
) -> list[dict]:
    """A person moves on a job that rests in ``waiting`` (an editor's approval, a creator's
    transcript): its status and the stage it resumes at come from the pipeline table."""
    stage, status, move = _pipeline().resume_point(waiting)
    job_rows.set_status(db, job["job_id"], status, move=move, reason=reason, run_id=run_id, actor=actor)
    return queue_stage(db, job, run_id, stage.name)


# --- The runner's transactions -------------------------------------------------------------


@transaction
def claim(
    db: Database, attempt_id: int, worker: str, *, step: str | None, reads: dict[str, list], context: dict
) -> dict | None:
    """queued -> running, with the job and the inputs the step declares; None when there is
    nothing to run (a duplicate delivery, already taken or cancelled, the step already done)."""
    attempt = step_rows.claim_attempt(db, attempt_id, worker)
    if attempt is None:
        return None
    if step is not None and attempt["step"] != step:
        raise ValueError(f"attempt {attempt_id} runs {attempt['step']}, not {step}")
    job = job_rows.get_job(db, attempt["job_id"])
    inputs = load_inputs(db, job, reads, {**context, "run_id": attempt["run_id"]}) if step is not None else None
    return {"attempt": attempt, "job": job, "inputs": inputs}


@transaction
def load_step_inputs(db: Database, attempt: dict, reads: dict[str, list], context: dict) -> dict:
    """The inputs of an attempt claimed without its step's reads (enqueued by an older version)."""
    job = job_rows.get_job(db, attempt["job_id"])
    return load_inputs(db, job, reads, {**context, "run_id": attempt["run_id"]})


@transaction
def complete(db: Database, attempt: dict, outputs: dict, body_ms: float) -> list[dict]:
    """Save a step's outputs, mark the attempt done, move the job on; returns the attempts to
    enqueue. ``outputs``: ``artifacts`` [(kind, content, format, provenance)], ``drafts`` [(draft,
    source, note)], ``records`` [(type, fields)], ``job_fields``, ``status`` [status, reason] or
    None, ``log_lines``."""
    refused = _reserve(db, attempt, outputs.get("reserve_minutes"))
    if refused is not None:  # the plan has no room left now: the job stops here, nothing is saved
        log_lines = outputs.get("log_lines") or []
        return fail(db, attempt, refused.code.value, refused.message, retry_after=None, log_lines=log_lines)
    if not step_rows.finish_attempt(db, attempt["id"], body_ms):
        return []  # someone ended this attempt first (cancel, or the reconciler thought it lost)
    _save_outputs(db, attempt, outputs)
    artifact_rows.add_logs(db, outputs.get("log_lines") or [])
    job_id, run_id = attempt["job_id"], attempt["run_id"]
    if outputs.get("job_fields"):
        job_rows.update_job(db, job_id, **outputs["job_fields"])
    if outputs.get("status"):
        status, reason = outputs["status"]
        job_rows.set_status(db, job_id, JobStatus(status), reason=reason, run_id=run_id)
        job_rows.finish_run(db, run_id)
        return []
    stage = _pipeline().stage_of(attempt["step"]).name
    return advance(db, job_rows.get_job(db, job_id), run_id, stage)


@transaction
def fail(
    db: Database,
    attempt: dict,
    code: str,
    message: str,
    *,
    retry_after: float | None,
    log_lines: list,
) -> list[dict]:
    """Record a failed attempt: schedule the next one with backoff when the error is retryable
    and attempts are left, else end the job in the status the table gives the error."""
    if not step_rows.end_attempt(db, attempt["id"], "failed", code=code, message=message):
        return []
    artifact_rows.add_logs(db, log_lines)
    error, number = StepError(ErrorCode(code), message, retry_after=retry_after), attempt["attempt"]
    if should_retry(error.code, number):
        delay = backoff_delay(number, retry_after=retry_after)
        step_rows.queue_attempt(
            db,
            run_id=attempt["run_id"],
            job_id=attempt["job_id"],
            step=attempt["step"],
            attempt=number + 1,
            delay_s=delay,
        )
        where = (attempt["job_id"], attempt["run_id"], attempt["step"], number, utcnow())
        artifact_rows.add_logs(db, [(*where, "WARNING", f"{code}; attempt {number + 1} in {delay:.1f} s")])
        return []
    status = _pipeline().failure_status(error.code, attempt["step"])
    fail_job(db, attempt["job_id"], attempt["run_id"], status, error)
    return []


def _reserve(db: Database, attempt: dict, minutes: float | None) -> StepError | None:
    """Hold the plan minutes a step learned the job needs, checked against what the workspace
    has left at this moment (other jobs may have taken minutes since the step read the plan)."""
    if not minutes:  # most steps learn nothing about the length: no read at all
        return None
    job = job_rows.get_job(db, attempt["job_id"])
    if job.get("plan_exempt"):
        return None
    workspace = job["workspace"]
    try:
        check_quota(usage_rows.plan_status(db, workspace, exclude_job=attempt["job_id"]), minutes * 60)
    except StepError as refused:
        return refused
    usage_rows.reserve_minutes(db, workspace, attempt["job_id"], minutes)
    return None


def _save_outputs(db: Database, attempt: dict, outputs: dict) -> None:
    keys = {"job_id": attempt["job_id"], "run_id": attempt["run_id"], "step": attempt["step"]}
    for kind, content, fmt, provenance in outputs.get("artifacts") or []:
        artifact_rows.save_artifact(
            db, kind=kind, content=content, fmt=fmt, provenance=Provenance.model_validate(provenance), **keys
        )
    for draft, source, note in outputs.get("drafts") or []:
        artifact_rows.add_draft_version(
            db,
            attempt["job_id"],
            Draft.model_validate(draft),
            source=source,
            author="clipinsight",
            run_id=attempt["run_id"],
            note=note,
        )
    for kind, fields in outputs.get("records") or []:
        _RECORDS[kind](db, attempt["run_id"], attempt["job_id"], fields)


_RECORDS = {
    "usage": lambda db, run_id, job_id, fields: usage_rows.record_usage(
        db, run_id, job_id, UsageRecord.model_validate(fields)
    ),
    "webhook": lambda db, run_id, job_id, fields: usage_rows.record_webhook(
        db, run_id, job_id, WebhookResult.model_validate(fields)
    ),
}
