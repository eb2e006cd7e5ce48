"""Redis as transport and live state: step jobs on the RQ queue, leases of running steps,
worker presence, step progress and once-only guards.

Nothing here is the truth: every queued attempt is first a ``run_steps`` row in DuckDB, and the
reconciler re-enqueues what Redis lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from pipeline import defaults
from pipeline.redis_server import RedisUnavailable, redis_client
from pipeline.settings import Settings, get_settings
from pipeline.stages import PIPELINE, Pipeline, load_pipeline

__all__ = [
    "redis_client",
    "step_queue",
    "rq_job_id",
    "enqueue_attempts",
    "waits_in_queue",
    "try_enqueue",
    "rq_state",
    "rq_worker",
    "worker_alive",
    "hold_lease",
    "has_lease",
    "announce_worker",
    "live_workers",
    "set_progress",
    "progress_of",
    "claim_once",
    "recall",
    "remember",
]

log = logging.getLogger("clipinsight.queue")
P = defaults.REDIS_PREFIX


def step_queue(conn: redis.Redis, name: str = "default") -> Queue:
    """The RQ queue of a stage's queue name (``default``, ``media``, ``llm``)."""
    return Queue(defaults.QUEUE_NAME if name == "default" else f"{defaults.QUEUE_NAME}-{name}", connection=conn)


def rq_job_id(attempt_id: int) -> str:
    return f"attempt-{attempt_id}"


def enqueue_attempts(
    conn: redis.Redis, attempts: Iterable[dict], pipeline: Pipeline = PIPELINE, *, at_front: bool = False
) -> None:
    """Put each attempt on its stage's queue; ``at_front`` for work that replaces work already
    lost or failed (it has waited its turn once)."""
    for attempt in attempts:
        stage = pipeline.stage_of(attempt["step"])
        step_queue(conn, stage.queue).enqueue_call(
            "pipeline.runner.run_attempt",
            args=(attempt["id"], attempt["step"]),
            job_id=rq_job_id(attempt["id"]),
            timeout=stage.timeout_s,
            result_ttl=60,
            failure_ttl=24 * 3600,
            description=f"{attempt['step']} of {attempt['run_id']} (attempt {attempt['attempt']})",
            at_front=at_front,
        )


def waits_in_queue(conn: redis.Redis, attempt: dict, pipeline: Pipeline = PIPELINE) -> bool:
    """Whether the attempt's RQ job is in its stage's queue. RQ says 'queued' from enqueue until a
    worker marks the job started, and a worker takes it off the queue (BLPOP) before that: a
    worker killed in between leaves a job RQ calls queued that no queue holds."""
    stage = pipeline.stage_of(attempt["step"])
    return conn.lpos(step_queue(conn, stage.queue).key, rq_job_id(attempt["id"])) is not None


def try_enqueue(attempts: list[dict], settings: Settings | None = None, *, at_front: bool = False) -> bool:
    """Enqueue after the DuckDB commit. If Redis is away the rows stay 'queued' and the
    reconciler enqueues them when it is back, so a failure here loses nothing."""
    if not attempts:
        return True
    settings = settings or get_settings()
    try:
        enqueue_attempts(redis_client(settings), attempts, load_pipeline(settings.pipeline), at_front=at_front)
        return True
    except (RedisUnavailable, redis.RedisError, OSError) as exc:
        log.warning("could not enqueue %d attempt(s) now (%s); the reconciler will", len(attempts), exc)
        return False


def rq_state(conn: redis.Redis, attempt_id: int) -> str | None:
    """RQ's status of the job carrying this attempt (queued, started, finished, ...), or None."""
    job = _rq_job(conn, attempt_id)
    if job is None:
        return None
    status = job.get_status(refresh=False)
    return status.value if isinstance(status, JobStatus) else status


def rq_worker(conn: redis.Redis, attempt_id: int) -> str | None:
    """The name of the worker that took the RQ job carrying this attempt, if one did."""
    job = _rq_job(conn, attempt_id)
    return job.worker_name if job is not None else None


def _rq_job(conn: redis.Redis, attempt_id: int) -> Job | None:
    try:
        return Job.fetch(rq_job_id(attempt_id), connection=conn)
    except NoSuchJobError:
        return None


def worker_alive(conn: redis.Redis, name: str | None) -> bool:
    """Has the worker announced itself within WORKER_TTL_S?"""
    return bool(name) and bool(conn.exists(f"{P}worker:{name}"))


# --- Leases: how the reconciler knows a running step still has a live worker ---------------


def _lease_key(attempt_id: int) -> str:
    return f"{P}lease:{attempt_id}"


@contextmanager
def hold_lease(conn: redis.Redis, attempt_id: int, holder: str) -> Iterator[None]:
    """Hold a lease while the body runs; a thread renews it. If the process dies, the lease
    expires after LEASE_TTL_S and the reconciler runs the step again."""
    key, stop = _lease_key(attempt_id), threading.Event()
    ttl_ms = int(defaults.LEASE_TTL_S * 1000)
    conn.set(key, holder, px=ttl_ms)

    def renew() -> None:
        while not stop.wait(defaults.LEASE_RENEW_S):
            try:
                conn.set(key, holder, px=ttl_ms)
            except redis.RedisError as exc:  # keep trying; the lease may lapse meanwhile
                log.warning("lease renewal failed: %s", exc)

    thread = threading.Thread(target=renew, name=f"lease-{attempt_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2)
        conn.delete(key)


def has_lease(conn: redis.Redis, attempt_ids: list[int]) -> dict[int, bool]:
    if not attempt_ids:
        return {}
    found = conn.mget([_lease_key(i) for i in attempt_ids])
    return {i: value is not None for i, value in zip(attempt_ids, found, strict=True)}


# --- Worker presence ---------------------------------------------------------------------


def announce_worker(conn: redis.Redis, name: str) -> None:
    conn.set(f"{P}worker:{name}", str(time.time()), px=int(defaults.WORKER_TTL_S * 1000))


def live_workers(conn: redis.Redis) -> list[str]:
    prefix = f"{P}worker:"
    return sorted(key.decode()[len(prefix) :] for key in conn.scan_iter(f"{prefix}*"))


# --- Progress and once-only guards ---------------------------------------------------------


def set_progress(conn: redis.Redis, run_id: str, step: str, fraction: float) -> None:
    key = f"{P}progress:{run_id}"
    conn.hset(key, step, f"{fraction:.3f}")
    conn.expire(key, 24 * 3600)


def progress_of(conn: redis.Redis, run_id: str) -> dict[str, float]:
    raw = conn.hgetall(f"{P}progress:{run_id}")
    return {k.decode(): float(v) for k, v in raw.items()}


def claim_once(conn: redis.Redis, key: str) -> bool:
    """True the first time ``key`` is claimed (kept 30 days), False after."""
    return bool(conn.set(f"{P}once:{key}", "1", nx=True, ex=30 * 24 * 3600))


def recall(conn: redis.Redis, key: str) -> str | None:
    """What a step kept under ``key`` in an earlier attempt, or None. A lost Redis answers None:
    the memory only saves repeated work, it never decides an outcome."""
    try:
        raw = conn.get(f"{P}kept:{key}")
    except redis.RedisError:
        return None
    return raw.decode() if raw is not None else None


def remember(conn: redis.Redis, key: str, value: str, ttl_s: int = 24 * 3600) -> None:
    """Keep ``value`` for the step's later attempts (a day; best effort, like ``recall``)."""
    try:
        conn.set(f"{P}kept:{key}", value, ex=ttl_s)
    except redis.RedisError:
        log.warning("could not keep %s for a later attempt (Redis unavailable)", key.split(":")[0])
