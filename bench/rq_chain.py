"""The baseline: a plain RQ chain of no-op jobs (each depends on the one before) on one
SimpleWorker process, measured in the same run as ClipInsight's own pipeline."""

from __future__ import annotations

import subprocess
import sys
import time

from rq import Queue
from rq.job import Job


def noop() -> None:
    return None


def run_chain(conn, length: int) -> list[float]:
    """Enqueue ``length`` chained jobs; return per-job latency (ms): each job's end minus the
    end of the job before it (the first: minus its enqueue)."""
    queue = Queue("bench-chain", connection=conn)
    jobs, previous = [], None
    for _ in range(length):
        previous = queue.enqueue(noop, depends_on=previous, result_ttl=600)
        jobs.append(previous)
    last = jobs[-1]
    while last.get_status(refresh=True) != "finished":
        time.sleep(0.01)
    ends = [Job.fetch(j.id, connection=conn).ended_at for j in jobs]
    starts = [jobs[0].enqueued_at] + ends[:-1]
    return [(end - start).total_seconds() * 1000 for start, end in zip(starts, ends, strict=True)]


def start_worker(socket_path: str) -> subprocess.Popen:
    code = (
        "import redis, rq; from rq import SimpleWorker;"
        f"c = redis.Redis(unix_socket_path={socket_path!r});"
        "SimpleWorker(['bench-chain'], connection=c).work(logging_level='WARNING')"
    )
    return subprocess.Popen([sys.executable, "-c", code])
