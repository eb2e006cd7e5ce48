"""The step runner: the one function RQ workers execute (``run_attempt``).

claim the attempt and load the inputs its step declares (one transaction) -> run the step under
a lease -> in ONE transaction save outputs, mark the attempt done, move the job status and queue
what comes next -> enqueue those attempts on Redis.

A failure is classified into an error code; retryable codes schedule the next attempt with
backoff (the reconciler enqueues it when due), the others end the job in the status the
pipeline table gives the error. An exception nobody expected is INTERNAL_ERROR: a bug, not
retried, with its traceback in the run log.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from contextlib import contextmanager

from pydantic import BaseModel, ValidationError

from pipeline import queue
from pipeline.context import StepContext
from pipeline.errors import ErrorCode, InvalidInput, StepError
from pipeline.models import Provenance, UsageRecord, WebhookResult
from pipeline.providers import content_provider
from pipeline.settings import Settings, get_settings
from pipeline.steps import StepSpec, registry_for
from pipeline.steps.base import StepOutputs
from pipeline.store import get_store
from pipeline.store import runs as run_rows
from pipeline.store import steps as step_rows
from pipeline.tasks import newest_prompts

__all__ = ["run_attempt", "run_queued", "worker_name", "classify"]

log = logging.getLogger("clipinsight.runner")


def worker_name() -> str:
    return os.environ.get("CLIPINSIGHT_WORKER_NAME") or f"{socket.gethostname()}:{os.getpid()}"


def run_attempt(attempt_id: int, step: str | None = None) -> str:
    """Run one step attempt end to end. Returns what happened, for RQ's records."""
    settings = get_settings()
    registry = registry_for(settings.pipeline)
    claimed = _claim(settings, registry, attempt_id, step)
    if claimed is None:
        return "skipped"
    attempt, spec = claimed["attempt"], registry[claimed["attempt"]["step"]]
    inputs, problem = _build_inputs(spec, claimed["inputs"])  # parsing happens outside the transaction
    ctx = _context(settings, attempt, spec)
    store, conn = get_store(settings), _redis_or_none(settings)
    with _lease(conn, attempt_id):  # held until the outcome is committed: a slow store is not a lost worker
        outputs, error, body_ms = _execute(ctx, spec, inputs, problem)
        if error is None:
            follow_ups = store.run(run_rows.complete, attempt, _prepare(outputs, ctx, attempt), body_ms)
        else:
            follow_ups = store.run(
                run_rows.fail,
                attempt,
                error.code.value,
                error.message,
                retry_after=error.retry_after,
                log_lines=ctx.log_lines,
            )
    queue.try_enqueue(follow_ups, settings)
    return "done" if error is None else f"failed: {error.code.value}"


@contextmanager
def _lease(conn, attempt_id: int):
    if conn is None:
        yield
        return
    with queue.hold_lease(conn, attempt_id, worker_name()):
        yield


def _claim(settings: Settings, registry, attempt_id: int, step: str | None) -> dict | None:
    """Claim the attempt with the inputs its step reads. An attempt enqueued without its step
    name (by an older version) is claimed first and its inputs read in the same transaction."""
    spec = registry[step] if step else None
    context = {"newest_prompts": _newest_prompts(settings)}
    store = get_store(settings)
    reads = _reads(spec) if spec else {}
    claimed = store.run(run_rows.claim, attempt_id, worker_name(), step=step, reads=reads, context=context)
    if claimed is not None and spec is None:
        spec = registry[claimed["attempt"]["step"]]
        claimed["inputs"] = store.run(run_rows.load_step_inputs, claimed["attempt"], _reads(spec), context)
    return claimed


def _reads(spec: StepSpec) -> dict[str, list]:
    return {name: read.as_request() for name, read in spec.reads.items()}


def _newest_prompts(settings: Settings) -> dict[str, str]:
    """The prompts the content provider reads, for pinning a run's versions on first use."""
    try:
        return newest_prompts(content_provider(settings))
    except Exception:  # a provider that cannot start (no key) fails the step itself, with its own message
        return {}


def run_queued(max_passes: int = 200, settings: Settings | None = None) -> int:
    """Run every queued attempt in this process until none is left, as a burst worker would but
    without Redis (page tests, benchmarks, seeding). Returns how many attempts ran."""
    store = get_store(settings or get_settings())
    ran = 0
    for _ in range(max_passes):
        pending = store.run(step_rows.pending_attempts)
        queued = [(a["id"], a["step"]) for a in pending if a["status"] == "queued"]
        if not queued:
            return ran
        for attempt_id, step in queued:
            run_attempt(attempt_id, step)
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
        recall=(lambda key: queue.recall(conn, key)) if conn else (lambda key: None),
        remember=(lambda key, value: queue.remember(conn, key, value)) if conn else (lambda key, value: None),
    )


def _redis_or_none(settings: Settings):
    try:
        return queue.redis_client(settings)
    except Exception:  # a step can run without Redis (tests, a lost connection); it only loses live state
        return None


def _execute(ctx: StepContext, spec: StepSpec, inputs, problem: StepError | None):
    if problem is not None:
        ctx.error(problem.message)
        return None, problem, 0.0
    started = time.perf_counter()
    try:
        outputs = spec.module.run(ctx, inputs)
        ctx.progress(1.0)
        return outputs, None, (time.perf_counter() - started) * 1000
    except Exception as exc:  # every failure becomes a classified, recorded error
        error = classify(exc, spec)
        expected = isinstance(exc, StepError | InvalidInput)
        ctx.error(f"{error.code.value}: {error.message}", None if expected else exc)
        return None, error, (time.perf_counter() - started) * 1000


def classify(exc: BaseException, spec: StepSpec) -> StepError:
    """Map any exception from a step to an error code. Only what is known to be transient is
    retryable; anything unexpected is a bug (INTERNAL_ERROR), which retrying would repeat."""
    if isinstance(exc, StepError):
        return exc
    if isinstance(exc, InvalidInput):
        return StepError(ErrorCode.INVALID_INPUT, str(exc))
    if isinstance(exc, TimeoutError) or type(exc).__name__ == "JobTimeoutException":
        return StepError(ErrorCode.TIMEOUT, f"the {spec.name} step took too long")
    if isinstance(exc, ConnectionError | socket.gaierror):
        return StepError(ErrorCode.NETWORK_ERROR, f"network error: {exc}")
    return StepError(ErrorCode.INTERNAL_ERROR, f"internal error in the {spec.name} step: {type(exc).__name__}: {exc}")


# --- Inputs and outputs ------------------------------------------------------------------


def _build_inputs(spec: StepSpec, raw: dict[str, object]) -> tuple[BaseModel | None, StepError | None]:
    model, reads = spec.module.Inputs, spec.reads
    values = {}
    for name, field in model.model_fields.items():
        value = raw.get(name)
        if value is None and field.is_required():
            return None, StepError(ErrorCode.INVALID_INPUT, f"the {spec.name} step needs {name}, which is missing")
        if value is not None:
            values[name] = _stored(value) if reads[name].source == "artifact" else value
    try:
        return model.model_validate(values), None
    except ValidationError as exc:
        return None, StepError(ErrorCode.INVALID_INPUT, f"the {spec.name} step got unusable inputs: {exc}")


def _stored(artifact: dict) -> object:
    return json.loads(artifact["content"]) if artifact["format"] == "json" else artifact["content"]


def _prepare(outputs: StepOutputs, ctx: StepContext, attempt: dict) -> dict:
    """A step's outputs serialised for the store, ready before the transaction opens."""
    artifacts = []
    for kind, value in outputs.artifacts(ctx.params).items():
        content, fmt = (value, "text") if isinstance(value, str) else (value.model_dump_json(), "json")
        provenance = ctx.provenance.get(kind) or Provenance(provider="pipeline", model=attempt["step"])
        artifacts.append((kind, content, fmt, provenance.model_dump()))
    status = outputs.job_status()
    return {
        "artifacts": artifacts,
        "drafts": [(d.model_dump(mode="json"), source, note) for d, source, note in outputs.new_drafts()],
        "records": [(_RECORD_KINDS[type(r)], r.model_dump()) for r in outputs.records()],
        "job_fields": outputs.job_fields(),
        "reserve_minutes": outputs.reserved_minutes(),
        "status": [status[0].value, status[1]] if status else None,
        "log_lines": ctx.log_lines,
    }


_RECORD_KINDS = {UsageRecord: "usage", WebhookResult: "webhook"}
