"""Step workers: RQ ``SimpleWorker`` processes (the step runs in the worker process itself, so
providers and models load once per worker, and a killed worker takes its step with it — which
the lease makes visible to the reconciler).

A worker outlives its Redis: when the server goes away (killed, restarting) RQ's loop gives up
or its teardown fails; the worker then waits for Redis to answer again and goes back to work
under the same name. What RQ lost, DuckDB still has; the reconciler enqueues it again."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

import redis
from rq import SimpleWorker

from pipeline import defaults, queue
from pipeline.errors import InvalidInput
from pipeline.redis_server import RedisUnavailable
from pipeline.settings import Settings, get_settings
from pipeline.stages import load_pipeline

__all__ = ["StepWorker", "run_worker"]

log = logging.getLogger("clipinsight.worker")


class StepWorker(SimpleWorker):
    """A SimpleWorker that also announces itself under a short TTL, so 'is a worker alive?'
    is answered within seconds rather than after RQ's worker TTL."""

    #: RQ waits this long at most between attempts to reach a Redis that went away (its own
    #: default grows to 60 s, which would keep a worker idle long after Redis is back).
    max_connection_wait_time = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._presence_stop = threading.Event()

    def work(self, *args, burst: bool = False, **kwargs):
        thread = threading.Thread(target=self._announce, name="presence", daemon=True)
        thread.start()
        try:
            while True:
                worked = self._work_until_redis_is_lost(*args, burst=burst, **kwargs)
                if worked is not None or burst or self._stop_requested:
                    return bool(worked)
                log.warning("worker %s lost Redis; waiting for it to come back", self.name)
                self._rejoin()
        finally:
            self._presence_stop.set()

    def _work_until_redis_is_lost(self, *args, **kwargs) -> bool | None:
        """RQ's loop; None when it ended because Redis went away rather than by a stop request."""
        try:
            worked = super().work(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError):  # raised by RQ's teardown
            return None
        return worked if self._stop_requested or _redis_answers(self.connection) else None

    def _rejoin(self) -> None:
        """Wait for Redis, then clear this worker's stale registration so RQ lets it back in."""
        while not self._stop_requested and not _redis_answers(self.connection):
            time.sleep(defaults.REDIS_RECONNECT_S)
        try:
            self.register_death()
        except (redis.ConnectionError, redis.TimeoutError):
            pass  # gone again: the next loop notices

    def _announce(self) -> None:
        while True:
            try:
                queue.announce_worker(self.connection, self.name)
            except Exception as exc:  # Redis restarting: try again next beat
                log.warning("presence beat failed: %s", exc)
            if self._presence_stop.wait(defaults.LEASE_RENEW_S):
                return


def _redis_answers(conn) -> bool:
    try:
        return bool(conn.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def _connect(settings: Settings, start_redis: bool):
    """Start the embedded Redis if asked; otherwise wait for it (under ``up`` the supervisor runs it)."""
    while True:
        try:
            return queue.redis_client(settings, start=start_redis)
        except RedisUnavailable:
            time.sleep(defaults.REDIS_RECONNECT_S)


def run_worker(
    settings: Settings | None = None,
    *,
    name: str | None = None,
    burst: bool = False,
    start_redis: bool = True,
    queues: list[str] | None = None,
) -> None:
    """Work the given queues (``media``, ``llm``, ``default``; all of them by default)."""
    settings = settings or get_settings()
    known = load_pipeline(settings.pipeline).queues()
    chosen = queues or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise InvalidInput(f"no queue named {', '.join(unknown)}; the queues are {', '.join(known)}")
    conn = _connect(settings, start_redis)
    name = name or f"{socket.gethostname()}.{os.getpid()}"
    os.environ["CLIPINSIGHT_WORKER_NAME"] = name
    worker = StepWorker([queue.step_queue(conn, q) for q in chosen], connection=conn, name=name)
    worker.work(burst=burst, logging_level="WARNING")
