"""A throwaway deployment for a benchmark: a temp data dir, the embedded Redis, N workers and
the reconciler, started by the same supervisor as ``python -m pipeline up``."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline import api as operations
from pipeline import queue
from pipeline.process import forget_cached_state
from pipeline.settings import get_settings
from pipeline.supervisor import Endpoint, Supervisor

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


@contextmanager
def deployment(workers: int, api: Endpoint | None = None, **env: str) -> Iterator[Supervisor]:
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="clipinsight-bench-") as tmp:
        os.environ.update({"CLIPINSIGHT_DATA_DIR": str(Path(tmp) / "data"), **env})
        forget_cached_state()
        supervisor = Supervisor(get_settings(), workers=workers, ui=None, api=api)
        supervisor.start()
        try:
            wait_for_workers(workers)
            operations.configure_workspace("default", plan="studio")  # minutes are reserved at submit
            yield supervisor
        finally:
            supervisor.stop()
            os.environ.clear()
            os.environ.update(saved)
            forget_cached_state()


def wait_for_workers(count: int, timeout: float = 60) -> None:
    conn = queue.redis_client(get_settings())
    deadline = time.monotonic() + timeout
    while len(queue.live_workers(conn)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.05)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(p) - 1]
