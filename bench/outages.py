"""Chaos sections that take parts of a running product away: Redis and workers killed with
SIGKILL under ``python -m pipeline up``, and an LLM service that answers 30 % of calls "slow
down" or "unavailable". Each returns rows of (measure, figure, target) from one run.

- ``redis_kills``: 2 workers, 50 runs submitted, Redis killed twice while they run.
- ``worker_kills``: 4 workers, 50 runs submitted at once, a random worker killed every 5 s until
  every run has ended. Recovery is read from ``run_steps``: from the kill to the start of the
  attempt that replaced the killed one.
- ``llm_faults``: 4 workers on the Gemini provider, pointed at the local Gemini stand-in; a clean
  run of each sample first, then 100 runs with 30 % of LLM calls answered 429 (with Retry-After)
  or 503. Calls are counted where they arrive, at the stand-in.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import statistics
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.product import (
    OFFLINE,
    SAMPLES,
    child_pids,
    gemini_env,
    load_average,
    roomy_plan,
    running_up,
    scratch_data_dir,
    submit_transcript,
    wait_all,
)

__all__ = ["redis_kills", "worker_kills", "llm_faults"]

Row = tuple[str, str, str]
TALK = SAMPLES / "creator-workflow-talk.srt"
DONE = "ANALYTICS_LOGGED"


# --- Redis killed under up -------------------------------------------------------------------

REDIS_RUNS = 50


def redis_kills() -> list[Row]:
    with scratch_data_dir() as data_dir, running_up(workers=2, **OFFLINE) as up:
        load = load_average()
        roomy_plan()
        workers = child_pids(up, "pipeline worker")
        started = time.monotonic()
        jobs, restarts = [], []
        for number in range(REDIS_RUNS):
            jobs.append(submit_transcript(TALK, number))
            if number in (10, 30):
                restarts.append(_kill_redis(up, data_dir))
            time.sleep(0.2)
        statuses = wait_all(jobs)
        elapsed = time.monotonic() - started
        survivors = child_pids(up, "pipeline worker") & workers
    done = statuses.count(DONE)
    return [
        ("load average at the start", load, ""),
        (
            "runs completed / started, Redis killed (SIGKILL) twice",
            f"{done} / {REDIS_RUNS}",
            f"{REDIS_RUNS} / {REDIS_RUNS}",
        ),
        ("Redis answering again after each kill", ", ".join(f"{s:.2f} s" for s in restarts), "< 2 s"),
        ("workers that died with Redis", str(len(workers) - len(survivors)), "0"),
        (f"time for the {REDIS_RUNS} runs", f"{elapsed:.0f} s", ""),
    ]


def _kill_redis(up: subprocess.Popen, data_dir: Path) -> float:
    """SIGKILL the Redis child; seconds until a new server answers."""
    from pipeline.redis_server import embedded
    from pipeline.settings import get_settings

    [victim] = child_pids(up, "redis-server")
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    server = embedded(get_settings())
    while not (server.running() and child_pids(up, "redis-server") - {victim}):
        if time.monotonic() - killed > 60:
            raise RuntimeError("Redis did not come back within 60 s")
        time.sleep(0.01)
    return time.monotonic() - killed


# --- Workers killed under up -----------------------------------------------------------------

WORKER_RUNS = 50
WORKERS = 4
KILL_EVERY_S = 5.0
RECOVERY_TARGET_S = 10.0
#: Kills stop after this long; then the runs get STUCK_AFTER_S more to end.
KILLING_FOR_S = 600.0
STUCK_AFTER_S = 120.0


@dataclass(frozen=True)
class Kill:
    pid: int
    worker: str  # the worker's name, as run_steps records it
    at: datetime  # UTC, as run_steps' timestamps
    rq_attempt: int | None  # the attempt RQ had handed the worker, if any


@dataclass(frozen=True)
class Recovery:
    kill: Kill
    killed: dict | None  # the attempt that died with the worker (None: taken from RQ but not claimed yet)
    successor: dict | None  # the attempt that ran the step again

    def requeued_s(self) -> float | None:
        """Kill -> the step queued again (None when it was never queued again)."""
        if self.successor is None:
            return None
        queued = self.successor["queued_at"] if self.killed else self.kill.at
        return max(0.0, (queued - self.kill.at).total_seconds())

    def started_s(self) -> float | None:
        """Kill -> the step running again on another worker."""
        if self.successor is None or self.successor["started_at"] is None:
            return None
        return (self.successor["started_at"] - self.kill.at).total_seconds()


def worker_kills() -> list[Row]:
    from pipeline.store import get_store

    with scratch_data_dir(), running_up(workers=WORKERS, **OFFLINE) as up:
        load = load_average()
        roomy_plan()
        started = time.monotonic()
        jobs = [submit_transcript(TALK, number) for number in range(WORKER_RUNS)]
        kills = _kill_workers_while_running(up, jobs)
        statuses = wait_all(jobs, timeout=STUCK_AFTER_S)
        elapsed = time.monotonic() - started
        attempts = get_store().rows("SELECT * FROM run_steps ORDER BY id")
        orphans = _orphans([a for a in attempts if a["status"] == "queued"])
        copies = get_store().rows(
            "SELECT run_id, kind, count(*) AS copies FROM artifacts GROUP BY run_id, kind HAVING count(*) > 1"
        )
    recoveries = _recoveries(kills, attempts)
    return _worker_rows(load, statuses, kills, recoveries, attempts, orphans, copies, elapsed)


def _kill_workers_while_running(up: subprocess.Popen, jobs: list[str]) -> list[Kill]:
    """SIGKILL a random live worker every KILL_EVERY_S until every job has ended (or
    KILLING_FOR_S has passed: a job stuck for good must not keep the bench killing forever)."""
    rng, kills, deadline = random.Random(13), [], time.monotonic() + KILLING_FOR_S
    while not _all_ended(jobs) and time.monotonic() < deadline:
        time.sleep(KILL_EVERY_S)
        live = sorted(child_pids(up, "pipeline worker"))
        if live:
            kills.append(_kill_worker(rng.choice(live)))
    return kills


def _kill_worker(pid: int) -> Kill:
    name = f"{socket.gethostname()}.{pid}"  # how pipeline.worker names itself
    current = _rq_job_of(name)
    os.kill(pid, signal.SIGKILL)
    at = datetime.now(UTC).replace(tzinfo=None)
    rq_attempt = int(current.removeprefix("attempt-")) if current else None
    return Kill(pid, name, at, rq_attempt)


def _rq_job_of(worker: str) -> str | None:
    """The id of the RQ job the worker is executing, if any (what RQ handed it, claimed or not)."""
    from rq import Worker

    from pipeline import queue
    from pipeline.settings import get_settings

    conn = queue.redis_client(get_settings())
    found = Worker.find_by_key(Worker.redis_worker_namespace_prefix + worker, connection=conn)
    return found.get_current_job_id() if found is not None else None


def _all_ended(jobs: list[str]) -> bool:
    from pipeline.stages import JobStatus
    from pipeline.store import get_store

    wanted = set(jobs)
    statuses = [row["status"] for row in get_store().rows("SELECT job_id, status FROM jobs") if row["job_id"] in wanted]
    return len(statuses) == len(wanted) and all(JobStatus(status).terminal for status in statuses)


def _recoveries(kills: list[Kill], attempts: list[dict]) -> list[Recovery]:
    """For each kill, the attempts it ended and what ran each step again."""
    by_step = {(a["run_id"], a["step"], a["attempt"]): a for a in attempts}
    by_id = {a["id"]: a for a in attempts}
    found = []
    for kill in kills:
        lost = [a for a in attempts if a["worker"] == kill.worker and a["status"] == "lost"]
        for attempt in lost:
            found.append(
                Recovery(kill, attempt, by_step.get((attempt["run_id"], attempt["step"], attempt["attempt"] + 1)))
            )
        taken = by_id.get(kill.rq_attempt)
        if taken is not None and taken["worker"] != kill.worker:  # taken from RQ, killed before its claim
            found.append(Recovery(kill, None, taken))
    return found


def _left_queued(attempts: list[dict]) -> int:
    """Attempts still queued after every run has ended or waited STUCK_AFTER_S without a kill:
    work a kill took out of Redis that nothing put back."""
    return sum(a["status"] == "queued" for a in attempts)


def _orphans(queued: list[dict]) -> int:
    """Queued attempts whose RQ job says "queued" while no RQ queue holds it: taken off the
    queue by a worker that was killed before it marked the job started."""
    from pipeline import queue
    from pipeline.settings import get_settings

    conn = queue.redis_client(get_settings())
    found = 0
    for attempt in queued:
        waiting = queue.step_queue(conn, _queue_of(attempt["step"])).job_ids
        found += queue.rq_state(conn, attempt["id"]) == "queued" and queue.rq_job_id(attempt["id"]) not in waiting
    return found


def _queue_waits(recoveries: list[Recovery]) -> list[float]:
    """For each recovered step, seconds from being queued again to running again."""
    return [r.started_s() - r.requeued_s() for r in recoveries if r.started_s() is not None]


def _queue_of(step: str) -> str:
    from pipeline.settings import get_settings
    from pipeline.stages import load_pipeline

    return load_pipeline(get_settings().pipeline).stage_of(step).queue


def _waiting_ahead(recovery: Recovery, attempts: list[dict]) -> int:
    """Attempts already waiting in the same RQ queue when the killed step was queued again."""
    requeued, queue = recovery.successor["queued_at"], _queue_of(recovery.successor["step"])
    return sum(
        1
        for a in attempts
        if a["id"] != recovery.successor["id"]
        and a["queued_at"] <= requeued
        and (a["started_at"] is None or a["started_at"] > requeued)
        and a["status"] != "scheduled"
        and _queue_of(a["step"]) == queue
    )


def _worker_rows(load, statuses, kills, recoveries, attempts, orphans, copies, elapsed) -> list[Row]:
    done = statuses.count(DONE)
    started = [s for r in recoveries if (s := r.started_s()) is not None]
    requeued = [s for r in recoveries if (s := r.requeued_s()) is not None]
    unrecovered = sum(r.started_s() is None for r in recoveries)
    hit = {r.kill for r in recoveries}
    unclaimed = sum(r.killed is None for r in recoveries)
    slowest = max(recoveries, key=lambda r: r.started_s() or 0.0, default=None)
    failed = [s for s in statuses if s != DONE]
    rows = [
        ("load average at the start", load, ""),
        (
            f"runs completed / started, a random worker SIGKILLed every {KILL_EVERY_S:.0f} s",
            f"{done} / {WORKER_RUNS}" + (f" (others: {', '.join(sorted(set(failed)))})" if failed else ""),
            f"{WORKER_RUNS} / {WORKER_RUNS}",
        ),
        (
            "workers killed: in a step / holding a step not yet claimed / idle",
            f"{len(kills)}: {len(recoveries) - unclaimed} / {unclaimed} / {len(kills) - len(hit)}",
            "",
        ),
        ("artifact kinds stored more than once for a run", str(len(copies)), "0"),
        ("killed steps never run again", str(unrecovered), "0"),
        (
            "steps left queued in the database, never run (of them: RQ says queued, but no queue holds them)",
            f"{_left_queued(attempts)} ({orphans})",
            "0",
        ),
    ]
    if started:
        rows += [
            (
                "recovery, kill → the killed step running again: slowest / median",
                f"{max(started):.1f} s / {statistics.median(started):.1f} s",
                f"≤ {RECOVERY_TARGET_S:.0f} s",
            ),
            (
                "… of which kill → the step queued again (lease expiry + reconciler): slowest / median",
                f"{max(requeued):.1f} s / {statistics.median(requeued):.1f} s",
                "",
            ),
            ("… and the longest wait in the queue after that", f"{max(_queue_waits(recoveries)):.1f} s", ""),
        ]
    if slowest is not None and slowest.started_s() is not None:
        rows.append(
            (
                "the slowest recovery's step (its queue): attempts waiting ahead of it when it was queued again",
                f"{slowest.successor['step']} ({_queue_of(slowest.successor['step'])}): "
                f"{_waiting_ahead(slowest, attempts)}",
                "",
            )
        )
    rows.append((f"time for the {WORKER_RUNS} runs", f"{elapsed:.0f} s", ""))
    return rows


# --- LLM faults under up ---------------------------------------------------------------------

LLM_RUNS = 100
FAULT_RATE = 0.3
LLM_SAMPLES = [
    "creator-workflow-talk.srt",
    "creator-workflow-talk.vtt",
    "creator-workflow-talk.txt",
    "moon-speech-1962.srt",
    "long-workshop.srt",
]
#: What the stand-in's 429s ask for: short, so the bench is quick (the calls do not depend on it).
RETRY_AFTER_S = 0.5


def llm_faults() -> list[Row]:
    from tests.support.gemini_server import GeminiServer

    with (
        GeminiServer(seed=13, retry_after_s=RETRY_AFTER_S) as server,
        scratch_data_dir(),
        running_up(workers=WORKERS, **gemini_env(server.base_url)),
    ):
        load = load_average()
        roomy_plan()
        clean = wait_all([submit_transcript(SAMPLES / name, -1 - n) for n, name in enumerate(LLM_SAMPLES)])
        clean_calls = server.generate_calls()
        server.fault_rate = FAULT_RATE
        started = time.monotonic()
        jobs = [submit_transcript(SAMPLES / LLM_SAMPLES[n % len(LLM_SAMPLES)], n) for n in range(LLM_RUNS)]
        statuses = wait_all(jobs)
        elapsed = time.monotonic() - started
        calls = server.generate_calls()[len(clean_calls) :]
        failed_steps = _step_failures(jobs)
    return _llm_rows(load, clean, clean_calls, statuses, calls, server.faults_injected, failed_steps, elapsed)


def _step_failures(jobs: list[str]) -> list[dict]:
    """Step attempts of these jobs that did not finish (each one the step ran again or ended on)."""
    from pipeline.store import get_store

    wanted = set(jobs)
    rows = get_store().rows("SELECT job_id, step, error_code FROM run_steps WHERE status IN ('failed', 'lost')")
    counts = Counter((row["step"], row["error_code"]) for row in rows if row["job_id"] in wanted)
    return [{"step": step, "error_code": code, "attempts": n} for (step, code), n in sorted(counts.items(), key=str)]


def _llm_rows(load, clean, clean_calls, statuses, calls, faults, failed_steps, elapsed) -> list[Row]:
    done = statuses.count(DONE)
    per_clean = len(clean_calls) / len(clean)
    per_run = len(calls) / max(done, 1)
    answered = sum(c.reply is not None and c.reply.status == 200 for c in calls) / max(done, 1)
    answered_clean = sum(c.reply is not None and c.reply.status == 200 for c in clean_calls) / len(clean)
    others = sorted({s for s in statuses if s != DONE})
    return [
        ("load average at the start", load, ""),
        (
            "clean runs first, one per sample: completed / LLM calls per run",
            f"{clean.count(DONE)} / {len(clean)}; {per_clean:.1f}",
            "",
        ),
        (
            f"runs completed / started, {FAULT_RATE:.0%} of LLM calls answered 429 (Retry-After) or 503",
            f"{done} / {LLM_RUNS}" + (f" (others: {', '.join(others)})" if others else ""),
            f"{LLM_RUNS} / {LLM_RUNS}",
        ),
        (
            "LLM calls per completed run, against a clean run's",
            f"{per_run:.2f} ({per_run / per_clean:.2f}×)",
            "≤ 1.5×",
        ),
        ("… calls answered 200 per run, against a clean run's", f"{answered:.2f} / {answered_clean:.2f}", ""),
        ("faults injected / LLM calls", f"{faults} / {len(calls)} ({faults / max(len(calls), 1):.0%})", ""),
        (
            "step attempts that failed (a call spent its 5 tries) and ran again",
            ", ".join(f"{r['step']}: {r['attempts']} ({r['error_code']})" for r in failed_steps) or "0",
            "",
        ),
        (f"time for the {LLM_RUNS} runs", f"{elapsed:.0f} s", ""),
    ]
