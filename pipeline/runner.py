"""The step runner: the one function RQ workers execute (``run_attempt``).

claim the attempt and load its inputs (one store session) -> run the step under a lease ->
in ONE transaction save outputs, mark the attempt done, move the job status and queue what
comes next -> enqueue those attempts on Redis.

A failure is classified into an error code; retryable codes schedule the next attempt with
backoff (the reconciler enqueues it when due), the others end the job in the right status.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from pipeline import labels, queue
from pipeline.errors import ErrorCode, InvalidInput, StepError, backoff_delay, should_retry
from pipeline.models import Draft, JobOptions, Provenance
from pipeline.providers import content_provider
from pipeline.settings import Settings, get_settings
from pipeline.states import JobStatus, Move, failure_status
from pipeline.steps import StepSpec, load_registry, next_stage, stage_status, steps_of_stage
from pipeline.steps.base import JobInfo, StepContext, StepOutputs, UsageRecord, WebhookResult
from pipeline.store import Database, get_store
from pipeline.store import artifacts as artifact_rows
from pipeline.store import jobs as job_rows
from pipeline.store import steps as step_rows
from pipeline.store import usage as usage_rows
from pipeline.store import voices as voice_rows

__all__ = ["run_attempt", "run_queued", "worker_name", "queue_stage"]

log = logging.getLogger("clipinsight.runner")


def worker_name() -> str:
    return os.environ.get("CLIPINSIGHT_WORKER_NAME") or f"{socket.gethostname()}:{os.getpid()}"


def run_attempt(attempt_id: int) -> str:
    """Run one step attempt end to end. Returns what happened, for RQ's records."""
    settings = get_settings()
    registry = load_registry(settings.step_registry)
    store = get_store(settings)
    with store.session() as db:  # the database is held only while reading and writing rows:
        attempt = step_rows.claim_attempt(db, attempt_id, worker_name())
        if attempt is None:
            return "skipped"
        spec = registry[attempt["step"]]
        job = job_rows.get_job(db, attempt["job_id"])
        raw = _read_inputs(db, spec, {**job, "run_id": attempt["run_id"]})
    inputs, problem = _build_inputs(spec, raw)  # parsing and validation happen outside the lock
    ctx = _context(settings, attempt, spec)
    outputs, error, body_ms = _execute(ctx, spec, inputs, problem, attempt_id)
    prepared = _prepare(outputs, ctx, attempt) if error is None else None
    with store.session() as db:
        if prepared is not None:
            follow_ups = _complete(db, spec, attempt, job, prepared, body_ms)
        else:
            follow_ups = _fail(db, spec, attempt, job, error, ctx)
    queue.try_enqueue(follow_ups, settings)
    return "done" if error is None else f"failed: {error.code.value}"


def run_queued(max_passes: int = 200, settings: Settings | None = None) -> int:
    """Run every queued attempt in this process until none is left, as a burst worker would but
    without Redis (page tests, benchmarks, seeding). Returns how many attempts ran."""
    store = get_store(settings or get_settings())
    ran = 0
    for _ in range(max_passes):
        with store.session() as db:
            queued = [a["id"] for a in step_rows.pending_attempts(db) if a["status"] == "queued"]
        if not queued:
            return ran
        for attempt_id in queued:
            run_attempt(attempt_id)
        ran += len(queued)
    raise RuntimeError(f"attempts were still queued after {max_passes} passes")


def _context(settings: Settings, attempt: dict, spec: StepSpec) -> StepContext:
    conn = _redis_or_none(settings)
    run_id, step = attempt["run_id"], attempt["step"]
    return StepContext(
        job_id=attempt["job_id"],
        run_id=run_id,
        step=step,
        attempt=attempt["attempt"],
        settings=settings,
        params=dict(spec.params),
        report_progress=(lambda f: queue.set_progress(conn, run_id, step, f)) if conn else (lambda f: None),
        claim_once=(lambda key: queue.claim_once(conn, key)) if conn else (lambda key: True),
    )


def _redis_or_none(settings: Settings):
    try:
        return queue.redis_client(settings)
    except Exception:  # a step can run without Redis (tests, a lost connection); it only loses live state
        return None


def _execute(ctx: StepContext, spec: StepSpec, inputs, problem: StepError | None, attempt_id: int):
    if problem is not None:
        ctx.error(problem.message)
        return None, problem, 0.0
    conn = _redis_or_none(ctx.settings)
    started = time.perf_counter()
    try:
        if conn is None:
            outputs = spec.module.run(ctx, inputs)
        else:
            with queue.hold_lease(conn, attempt_id, worker_name()):
                outputs = spec.module.run(ctx, inputs)
        ctx.progress(1.0)
        return outputs, None, (time.perf_counter() - started) * 1000
    except Exception as exc:  # every failure becomes a classified, recorded error
        error = classify(exc, spec)
        ctx.error(f"{error.code.value}: {error.message}", exc if not isinstance(exc, StepError) else None)
        return None, error, (time.perf_counter() - started) * 1000


def classify(exc: BaseException, spec: StepSpec) -> StepError:
    """Map any exception from a step to an error code."""
    if isinstance(exc, StepError):
        return exc
    if isinstance(exc, InvalidInput):
        return StepError(ErrorCode.INVALID_INPUT, str(exc))
    if isinstance(exc, TimeoutError) or type(exc).__name__ == "JobTimeoutException":
        return StepError(ErrorCode.TIMEOUT, f"the {spec.name} step took too long")
    if isinstance(exc, (ConnectionError, socket.gaierror)):
        return StepError(ErrorCode.NETWORK_ERROR, f"network error: {exc}")
    return StepError(spec.failure_code, f"{type(exc).__name__}: {exc}")


# --- Inputs ------------------------------------------------------------------------------


class _StoredJSON(str):
    """An artifact's JSON text, read inside the session and parsed after it."""


def _read_inputs(db: Database, spec: StepSpec, job: dict) -> dict[str, object]:
    """Everything the step's inputs name, as stored (inside the session)."""
    return {name: _read_input(db, name, job) for name in spec.module.Inputs.model_fields}


def _read_input(db: Database, name: str, job: dict):
    loader = _LOADERS.get(name)
    if loader is not None:
        return loader(db, job)
    row = artifact_rows.load_artifact(db, job["job_id"], name)
    if row is None:
        return None
    return _StoredJSON(row["content"]) if row["format"] == "json" else row["content"]


def _build_inputs(spec: StepSpec, raw: dict[str, object]) -> tuple[BaseModel | None, StepError | None]:
    model = spec.module.Inputs
    values = {}
    for name, field in model.model_fields.items():
        value = raw.get(name)
        if value is None and field.is_required():
            return None, StepError(ErrorCode.INVALID_INPUT, f"the {spec.name} step needs {name}, which is missing")
        if value is not None:
            values[name] = json.loads(value) if isinstance(value, _StoredJSON) else value
    try:
        return model.model_validate(values), None
    except ValidationError as exc:
        return None, StepError(ErrorCode.INVALID_INPUT, f"the {spec.name} step got unusable inputs: {exc}")


def _job_info(db: Database, job: dict) -> JobInfo:
    return JobInfo(**{k: job[k] for k in JobInfo.model_fields if k in job and job[k] is not None})


def _latest_drafts(db: Database, job: dict) -> dict[str, Draft] | None:
    wanted = set(JobOptions.model_validate(job["options"]).formats)
    drafts = {fmt: row["draft"] for fmt, row in artifact_rows.latest_drafts(db, job["job_id"]).items() if fmt in wanted}
    return drafts or None


def _prompt_versions(db: Database, job: dict) -> dict[str, str]:
    """The prompt versions this run is pinned to (pinned here on first use)."""
    try:
        provider = content_provider(get_settings())
    except Exception:  # a provider that cannot start (no key) fails the step itself, with its own message
        return {}
    return labels.pin_run_prompts(db, job["run_id"], provider)


_LOADERS = {
    "job": _job_info,
    "plan": lambda db, job: usage_rows.plan_status(db, job["workspace"], exclude_job=job["job_id"]),
    "workspace": lambda db, job: usage_rows.get_workspace(db, job["workspace"]),
    "drafts": _latest_drafts,
    "costs": lambda db, job: usage_rows.job_costs(db, job["job_id"]),
    "prompt_versions": _prompt_versions,
    "voice": lambda db, job: voice_rows.pin_profile(db, job["run_id"], job["workspace"]),
}


# --- Completion --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """A step's outputs serialised for the store, ready before the session opens."""

    artifacts: list[tuple[str, str, str, Provenance]]  # kind, content, format, provenance
    drafts: list[tuple[Draft, str, str | None]]
    records: list[BaseModel]
    job_fields: dict
    status: tuple[JobStatus, str] | None
    log_lines: list[tuple]


def _prepare(outputs: StepOutputs, ctx: StepContext, attempt: dict) -> _Prepared:
    artifacts = []
    for kind, value in outputs.artifacts().items():
        content, fmt = (value, "text") if isinstance(value, str) else (value.model_dump_json(), "json")
        provenance = ctx.provenance.get(kind) or Provenance(provider="pipeline", model=attempt["step"])
        artifacts.append((kind, content, fmt, provenance))
    return _Prepared(
        artifacts, outputs.new_drafts(), outputs.records(), outputs.job_fields(), outputs.job_status(), ctx.log_lines
    )


def _complete(
    db: Database, spec: StepSpec, attempt: dict, job: dict, prepared: _Prepared, body_ms: float
) -> list[dict]:
    if not step_rows.finish_attempt(db, attempt["id"], body_ms):
        return []  # someone ended this attempt first (cancel, or the reconciler thought it lost)
    _save_outputs(db, attempt, prepared)
    artifact_rows.add_logs(db, prepared.log_lines)
    if prepared.job_fields:
        job_rows.update_job(db, job["job_id"], **prepared.job_fields)
    override = prepared.status
    if override is not None:
        job_rows.set_status(db, job["job_id"], override[0], reason=override[1], run_id=attempt["run_id"])
        job_rows.finish_run(db, attempt["run_id"])
        return []
    return advance(db, job, attempt["run_id"], spec.stage)


def advance(db: Database, job: dict, run_id: str, stage: str) -> list[dict]:
    """The stage is done in this run (all its steps): move the status, queue the next stage."""
    options = JobOptions.model_validate(job["options"])
    if not step_rows.steps_done(db, run_id, steps_of_stage(stage, options)):
        return []  # the other drafts of the fan-out are still running
    for status in _statuses_after(stage):
        job_rows.set_status(db, job["job_id"], status, run_id=run_id)
    following = next_stage(stage)
    if following is None:
        job_rows.finish_run(db, run_id)
        return []
    return queue_stage(db, job, run_id, following)


def _statuses_after(stage: str) -> list[JobStatus]:
    if stage == "deliver":  # bundle + webhook, everything stored, usage logged: one transaction
        return [JobStatus.DELIVERED, JobStatus.STORED, JobStatus.ANALYTICS_LOGGED]
    return [stage_status(stage)]


def queue_stage(db: Database, job: dict, run_id: str, stage: str) -> list[dict]:
    options = JobOptions.model_validate(job["options"])
    return [
        step_rows.queue_attempt(db, run_id=run_id, job_id=job["job_id"], step=step)
        for step in steps_of_stage(stage, options)
    ]


def _save_outputs(db: Database, attempt: dict, prepared: _Prepared) -> None:
    keys = {"job_id": attempt["job_id"], "run_id": attempt["run_id"], "step": attempt["step"]}
    for kind, content, fmt, provenance in prepared.artifacts:
        artifact_rows.save_artifact(db, kind=kind, content=content, fmt=fmt, provenance=provenance, **keys)
    for draft, source, note in prepared.drafts:
        artifact_rows.add_draft_version(
            db, attempt["job_id"], draft, source=source, author="clipinsight", run_id=attempt["run_id"], note=note
        )
    for record in prepared.records:
        _save_record(db, attempt, record)


def _save_record(db: Database, attempt: dict, record: BaseModel) -> None:
    if isinstance(record, UsageRecord):
        usage_rows.record_usage(db, attempt["run_id"], attempt["job_id"], record)
    elif isinstance(record, WebhookResult):
        usage_rows.record_webhook(db, attempt["run_id"], attempt["job_id"], record)
    else:
        raise TypeError(f"no store for records of type {type(record).__name__}")


# --- Failure -----------------------------------------------------------------------------


def _fail(db: Database, spec: StepSpec, attempt: dict, job: dict, error: StepError, ctx: StepContext) -> list[dict]:
    ended = step_rows.end_attempt(db, attempt["id"], "failed", code=error.code.value, message=error.message)
    if not ended:
        return []
    artifact_rows.add_logs(db, ctx.log_lines)
    number = attempt["attempt"]
    if should_retry(error.code, number):
        delay = backoff_delay(number, retry_after=error.retry_after)
        step_rows.queue_attempt(
            db, run_id=attempt["run_id"], job_id=job["job_id"], step=spec.name, attempt=number + 1, delay_s=delay
        )
        _note(db, ctx, "WARNING", f"{error.code.value}; attempt {number + 1} in {delay:.1f} s")
        return []
    fail_job(db, job["job_id"], attempt["run_id"], failure_status(error.code, spec.stage), error)
    return []


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
    job_rows.set_status(
        db, job_id, status, move=move, reason=error.message, error_code=error.code.value, run_id=run_id, actor=actor
    )
    job_rows.finish_run(db, run_id)


def _note(db: Database, ctx: StepContext, level: str, message: str) -> None:
    ctx.log_lines.clear()
    ctx.log(level, message)
    artifact_rows.add_logs(db, ctx.log_lines)


def format_exception(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)).strip()
