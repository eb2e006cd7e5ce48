"""Pipeline core benchmarks.

``python -m bench orchestration`` (or ``python -m bench.orchestration [--json] [--quick] [NAME ...]``):

- noop: per-step orchestration overhead with no-op step bodies (p50/p95), beside a plain RQ
  chain of the same length measured in the same run.
- latency: a run whose LLM calls each take 1 s: end-to-end time over the critical path.
- long: a 1-hour transcript (~10,000 words) on the offline provider, submit to ANALYTICS_LOGGED,
  and the peak memory of a worker.
- scale: 40 jobs with 0.5 s LLM calls on 1 vs 4 workers.
- reader: 4 workers drain 100 jobs, with and without a notebook-style reader running SELECT
  queries in a loop through the storekeeper: the drain times, and how many queries failed.

``--json`` prints one JSON object (``step_overhead_p50_ms``, ``rq_chain_p50_ms``,
``critical_path_ratio``, ``speedup_1_to_4`` and the rest); ``--quick`` runs fewer jobs.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import psutil

from bench.deploy import SAMPLES, deployment, percentile
from bench.rq_chain import run_chain, start_worker
from pipeline import api, queue
from pipeline.options import JobOptions
from pipeline.settings import get_settings
from pipeline.stages import PIPELINE
from pipeline.store import get_store

TALK = SAMPLES / "creator-workflow-talk.srt"
STEPS_PER_RUN = 10  # validate, ingest, transcribe, insights, 4 drafts, qa_review, deliver


def submit(path=TALK, **options) -> str:
    return api.submit(transcript=path.read_bytes(), transcript_name=path.name, options=JobOptions(**options)).job_id


def attempts(job_id: str) -> tuple[dict, list[dict]]:
    store = get_store()
    job = store.row("SELECT created_at FROM jobs WHERE job_id = ?", [job_id])
    rows = store.rows("SELECT * FROM run_steps WHERE job_id = ? AND status = 'done' ORDER BY finished_at", [job_id])
    return job, rows


def step_latencies(job_id: str) -> list[tuple[float, float]]:
    """(latency, body) in ms per step of a job run on one worker: each step's commit minus the
    commit of the step before it (the first: minus the submission)."""
    job, rows = attempts(job_id)
    previous = job["created_at"]
    out = []
    for row in rows:
        out.append(((row["finished_at"] - previous).total_seconds() * 1000, row["body_ms"] or 0.0))
        previous = row["finished_at"]
    return out


def bench_noop(jobs: int = 30) -> dict:
    with deployment(workers=1, CLIPINSIGHT_PIPELINE="bench.noop_steps:PIPELINE"):
        submit(cta_url="https://warm.example")  # warm up imports and the first DuckDB open
        api.wait_for(submit(cta_url="https://warm.example/2"), timeout=60, poll_s=0.5)
        overheads = []
        for i in range(jobs):
            job_id = submit(cta_url=f"https://example.com/{i}")
            api.wait_for(job_id, timeout=60, poll_s=0.5)
            overheads += [latency - body for latency, body in step_latencies(job_id)]
        worker = start_worker(str(queue.redis_client(get_settings()).connection_pool.connection_kwargs["path"]))
        try:
            run_chain(queue.redis_client(get_settings()), STEPS_PER_RUN)  # warm-up
            chain = [ms for _ in range(jobs) for ms in run_chain(queue.redis_client(get_settings()), STEPS_PER_RUN)]
        finally:
            worker.terminate()
            worker.wait()
    return {
        "steps measured": len(overheads),
        "clipinsight p50 ms": percentile(overheads, 50),
        "clipinsight p95 ms": percentile(overheads, 95),
        "plain RQ chain p50 ms": percentile(chain, 50),
        "plain RQ chain p95 ms": percentile(chain, 95),
    }


def critical_path_ms(rows: list[dict]) -> float:
    """Sum over stages of the longest step body in the stage (parallel drafts count once)."""
    longest: dict[str, float] = {}
    for row in rows:
        stage = PIPELINE.stage_of(row["step"]).name
        longest[stage] = max(longest.get(stage, 0.0), row["body_ms"] or 0.0)
    return sum(longest.values())


def end_to_end_ms(job: dict, rows: list[dict]) -> float:
    return (max(r["finished_at"] for r in rows) - job["created_at"]).total_seconds() * 1000


def bench_latency(runs: int = 5) -> dict:
    env = {"CLIPINSIGHT_PROVIDER": "bench.providers:fixed_latency", "CLIPINSIGHT_BENCH_LLM_S": "1"}
    ratios, totals, paths = [], [], []
    with deployment(workers=4, **env):
        api.wait_for(submit(cta_url="https://warm.example"), timeout=120, poll_s=0.5)
        for i in range(runs):
            job_id = submit(cta_url=f"https://example.com/{i}")
            api.wait_for(job_id, timeout=120, poll_s=0.5)
            job, rows = attempts(job_id)
            total, path = end_to_end_ms(job, rows), critical_path_ms(rows)
            totals.append(total)
            paths.append(path)
            ratios.append(total / path)
    return {
        "end-to-end s (median)": percentile(totals, 50) / 1000,
        "critical path s (median)": percentile(paths, 50) / 1000,
        "ratio (median)": percentile(ratios, 50),
        "ratio (worst)": max(ratios),
    }


class PeakMemory:
    """Samples the resident memory of the worker processes while a run goes on."""

    def __init__(self, supervisor):
        self.processes = [psutil.Process(c.process.pid) for c in supervisor.children if c.name.startswith("worker")]
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            for process in self.processes:
                try:
                    self.peak_mb = max(self.peak_mb, process.memory_info().rss / 2**20)
                except psutil.Error:
                    continue

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def bench_long() -> dict:
    path = SAMPLES / "long-workshop.srt"
    with deployment(workers=2) as supervisor:
        api.wait_for(submit(cta_url="https://warm.example"), timeout=120, poll_s=0.5)
        with PeakMemory(supervisor) as memory:
            started = time.perf_counter()
            job_id = submit(path)
            report = api.wait_for(job_id, timeout=300, poll_s=0.1)
            elapsed = time.perf_counter() - started
        _, rows = attempts(job_id)
    words = sum(len(line.split()) for line in path.read_text().splitlines() if line and not line[0].isdigit())
    slowest = max(rows, key=lambda r: r["body_ms"] or 0)
    return {
        "words": words,
        "status": report["status"],
        "submit to ANALYTICS_LOGGED s": elapsed,
        "slowest step": f"{slowest['step']} {slowest['body_ms'] / 1000:.2f} s",
        "peak worker RSS MB": memory.peak_mb,
    }


def _run_batch(workers: int, jobs: int) -> float:
    env = {"CLIPINSIGHT_PROVIDER": "bench.providers:fixed_latency", "CLIPINSIGHT_BENCH_LLM_S": "0.5"}
    with deployment(workers=workers, **env):
        api.wait_for(submit(cta_url="https://warm.example"), timeout=120, poll_s=0.5)
        started = time.perf_counter()
        ids = [submit(cta_url=f"https://example.com/{i}") for i in range(jobs)]
        for job_id in ids:
            assert api.wait_for(job_id, timeout=900, poll_s=1.0)["status"] == "ANALYTICS_LOGGED"
        return time.perf_counter() - started


def bench_scale(jobs: int = 40) -> dict:
    one = _run_batch(1, jobs)
    four = _run_batch(4, jobs)
    return {"jobs": jobs, "1 worker s": one, "4 workers s": four, "speed-up": one / four}


class Reader:
    """A prompt tuner's notebook: SELECT queries in a loop through the storekeeper."""

    QUERIES = (
        "SELECT status, count(*) AS jobs FROM jobs GROUP BY ALL",
        "SELECT step, avg(body_ms) AS ms FROM run_steps GROUP BY step",
        "SELECT kind, sum(chars) AS chars FROM artifacts GROUP BY kind",
    )

    def __init__(self):
        self.queries = self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        store = get_store()
        while not self._stop.is_set():
            for sql in self.QUERIES:
                try:
                    store.frame(sql)
                    self.queries += 1
                except Exception:
                    self.failures += 1

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _drain(jobs: int, reader: bool) -> tuple[float, Reader | None]:
    env = {"CLIPINSIGHT_PROVIDER": "bench.providers:fixed_latency", "CLIPINSIGHT_BENCH_LLM_S": "0.2"}
    with deployment(workers=4, **env):
        api.wait_for(submit(cta_url="https://warm.example"), timeout=120, poll_s=0.5)
        watcher = Reader() if reader else None
        started = time.perf_counter()
        if watcher:
            watcher.__enter__()
        try:
            ids = [submit(cta_url=f"https://example.com/{i}") for i in range(jobs)]
            for job_id in ids:
                assert api.wait_for(job_id, timeout=900, poll_s=1.0)["status"] == "ANALYTICS_LOGGED"
            return time.perf_counter() - started, watcher
        finally:
            if watcher:
                watcher.__exit__()


def bench_reader(jobs: int = 100) -> dict:
    alone, _ = _drain(jobs, reader=False)
    beside, reader = _drain(jobs, reader=True)
    return {
        "jobs": jobs,
        "drain s without a reader": alone,
        "drain s with a reader": beside,
        "slow-down": beside / alone - 1,
        "reader queries": reader.queries,
        "reader queries failed": reader.failures,
    }


BENCHES = {
    "noop": bench_noop,
    "latency": bench_latency,
    "long": bench_long,
    "scale": bench_scale,
    "reader": bench_reader,
}
QUICK = {"noop": {"jobs": 8}, "latency": {"runs": 2}, "scale": {"jobs": 12}, "reader": {"jobs": 30}}
#: The keys the storekeeper issue asks ``--json`` for, and where they come from.
HEADLINE = {
    "step_overhead_p50_ms": ("noop", "clipinsight p50 ms"),
    "rq_chain_p50_ms": ("noop", "plain RQ chain p50 ms"),
    "critical_path_ratio": ("latency", "ratio (median)"),
    "speedup_1_to_4": ("scale", "speed-up"),
}


def main(argv: list[str]) -> None:
    as_json, quick = "--json" in argv, "--quick" in argv
    names = [a for a in argv if not a.startswith("--")] or list(BENCHES)
    results = {}
    for name in names:
        started = time.perf_counter()
        results[name] = BENCHES[name](**(QUICK.get(name, {}) if quick else {}))
        if not as_json:
            print(f"## {name}  ({time.perf_counter() - started:.0f} s)")
            for key, value in results[name].items():
                print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
            sys.stdout.flush()
    if as_json:
        flat = {key: results[bench][field] for key, (bench, field) in HEADLINE.items() if bench in results}
        flat.update({f"{bench}.{key}": value for bench, found in results.items() for key, value in found.items()})
        print(json.dumps(flat, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
