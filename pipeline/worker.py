"""Step workers: RQ ``SimpleWorker`` processes (the step runs in the worker process itself, so
providers and models load once per worker, and a killed worker takes its step with it — which
the lease makes visible to the reconciler)."""

from __future__ import annotations

import logging
import os
import socket
import threading

from rq import SimpleWorker

from pipeline import defaults, queue
from pipeline.errors import InvalidInput
from pipeline.settings import Settings, get_settings
from pipeline.stages import load_pipeline

__all__ = ["StepWorker", "run_worker"]

log = logging.getLogger("clipinsight.worker")


class StepWorker(SimpleWorker):
    """A SimpleWorker that also announces itself under a short TTL, so 'is a worker alive?'
    is answered within seconds rather than after RQ's worker TTL."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._presence_stop = threading.Event()

    def work(self, *args, **kwargs):
        thread = threading.Thread(target=self._announce, name="presence", daemon=True)
        thread.start()
        try:
            return super().work(*args, **kwargs)
        finally:
            self._presence_stop.set()

    def _announce(self) -> None:
        while True:
            try:
                queue.announce_worker(self.connection, self.name)
            except Exception as exc:  # Redis restarting: try again next beat
                log.warning("presence beat failed: %s", exc)
            if self._presence_stop.wait(defaults.LEASE_RENEW_S):
                return


def run_worker(
    settings: Settings | None = None, *, name: str | None = None, burst: bool = False, queues: list[str] | None = None
) -> None:
    """Work the given queues (``media``, ``llm``, ``default``; all of them by default)."""
    settings = settings or get_settings()
    known = load_pipeline(settings.pipeline).queues()
    chosen = queues or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise InvalidInput(f"no queue named {', '.join(unknown)}; the queues are {', '.join(known)}")
    conn = queue.redis_client(settings, start=True)
    name = name or f"{socket.gethostname()}.{os.getpid()}"
    os.environ["CLIPINSIGHT_WORKER_NAME"] = name
    worker = StepWorker([queue.step_queue(conn, q) for q in chosen], connection=conn, name=name)
    worker.work(burst=burst, logging_level="WARNING")
