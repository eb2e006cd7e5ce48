"""The reconciler: DuckDB is the truth, Redis the transport; this loop makes Redis agree.

Each pass, for every pending attempt in DuckDB:
- ``scheduled`` and its backoff has passed -> queued, and enqueued (this is the retry scheduler);
- ``queued`` but no RQ job waits for it (Redis lost it, or a process died between commit and
  enqueue) -> enqueued again;
- ``running`` but its lease has expired (the worker was killed) -> marked lost and, within the
  retry budget, queued again at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass

import redis

from pipeline import defaults, queue
from pipeline.errors import ErrorCode, StepError, should_retry
from pipeline.settings import Settings, get_settings
from pipeline.stages import load_pipeline
from pipeline.store import get_store, transaction, utcnow
from pipeline.store import jobs as job_rows
from pipeline.store import runs as run_rows
from pipeline.store import steps as step_rows
from pipeline.store.steps import age_s

__all__ = ["PassReport", "reconcile_once", "run_forever"]

log = logging.getLogger("clipinsight.reconciler")


@dataclass
class PassReport:
    promoted: int = 0
    requeued: int = 0
    lost: int = 0

    def __bool__(self) -> bool:
        return bool(self.promoted or self.requeued or self.lost)


def reconcile_once(settings: Settings | None = None, conn: redis.Redis | None = None) -> PassReport:
    settings = settings or get_settings()
    conn = conn or queue.redis_client(settings)
    store = get_store(settings)
    pending = store.run(step_rows.pending_attempts)
    if not pending:
        return PassReport()
    leases = queue.has_lease(conn, [a["id"] for a in pending if a["status"] == "running"])
    pipeline = load_pipeline(settings.pipeline)
    work = [(attempt, action) for attempt in pending if (action := _action(conn, attempt, leases, pipeline))]
    if not work:  # most passes find nothing to do and never write
        return PassReport()
    counts, to_enqueue = store.run(repair, work)
    report = PassReport(**counts)
    queue.try_enqueue(to_enqueue, settings, at_front=True)  # each replaces work that already waited its turn
    if report:
        log.info("reconciled: %s", report)
    return report


@transaction
def repair(db, work: list) -> tuple[dict, list[dict]]:
    """Act on what the snapshot found, each attempt by compare-and-set: (counts, to enqueue)."""
    report, to_enqueue = PassReport(), []
    for attempt, action in work:
        to_enqueue += _ACTIONS[action](db, attempt, report)
    return vars(report), to_enqueue


def _action(conn, attempt: dict, leases: dict[int, bool], pipeline):
    """What this attempt needs, decided from the snapshot and Redis; None when it is fine."""
    status = attempt["status"]
    if status == "scheduled" and attempt["not_before"] <= utcnow():
        return "promote"
    if status == "queued" and _needs_requeue(conn, attempt, pipeline):
        return "requeue"
    if status == "running" and not leases.get(attempt["id"]) and age_s(attempt["started_at"]) > defaults.LEASE_TTL_S:
        return "recover_lost"
    return None


def _promote(db, attempt: dict, report: PassReport) -> list[dict]:
    if not step_rows.promote_scheduled(db, attempt["id"]):
        return []
    report.promoted += 1
    return [attempt]


def _requeue(db, attempt: dict, report: PassReport) -> list[dict]:
    still_queued = step_rows.attempt_status(db, attempt["id"]) == "queued"
    report.requeued += still_queued
    return [attempt] if still_queued else []


def _needs_requeue(conn, attempt: dict, pipeline) -> bool:
    """A queued attempt that Redis does not carry (any more). An RQ job 'started' for an attempt
    still queued in DuckDB means a worker took it and has not claimed it yet: it is lost when that
    worker is gone (killed between dequeue and claim), or when it has not claimed it for long. A
    job RQ calls 'queued' is safe only while it is in its queue: a worker killed between taking
    it off the queue and marking it started leaves it 'queued' in no queue at all."""
    age = age_s(attempt["queued_at"])
    if age <= defaults.REQUEUE_AFTER_S:
        return False
    state = queue.rq_state(conn, attempt["id"])
    if state == "started":
        return age > defaults.STALE_CLAIM_S or not queue.worker_alive(conn, queue.rq_worker(conn, attempt["id"]))
    if state == "queued":
        return not queue.waits_in_queue(conn, attempt, pipeline)
    return state not in ("deferred", "scheduled")


def _recover_lost(db, attempt: dict, report: PassReport) -> list[dict]:
    message = f"the worker {attempt['worker']} stopped while running this step"
    if not step_rows.end_attempt(db, attempt["id"], "lost", code=ErrorCode.WORKER_LOST.value, message=message):
        return []
    report.lost += 1
    job = job_rows.get_job(db, attempt["job_id"])
    if not should_retry(ErrorCode.WORKER_LOST, attempt["attempt"]):
        error = StepError(ErrorCode.WORKER_LOST, message + f" ({attempt['attempt']} times)")
        status = load_pipeline(get_settings().pipeline).failure_status(error.code, attempt["step"])
        run_rows.fail_job(db, job["job_id"], attempt["run_id"], status, error)
        return []
    return [
        step_rows.queue_attempt(
            db, run_id=attempt["run_id"], job_id=attempt["job_id"], step=attempt["step"], attempt=attempt["attempt"] + 1
        )
    ]


_ACTIONS = {"promote": _promote, "requeue": _requeue, "recover_lost": _recover_lost}


def run_forever(settings: Settings | None = None, stop: threading.Event | None = None) -> None:
    """The reconciler process: a pass every RECONCILE_INTERVAL_S until SIGTERM/SIGINT."""
    settings = settings or get_settings()
    stop = stop or _stop_on_signals()
    conn = queue.redis_client(settings)
    log.info("reconciler running for %s", settings.data_dir)
    while not stop.is_set():
        try:
            reconcile_once(settings, conn)
        except Exception:  # keep reconciling; one bad pass must not stop recovery for everyone
            log.exception("reconcile pass failed")
        stop.wait(defaults.RECONCILE_INTERVAL_S)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
