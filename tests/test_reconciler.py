"""The reconciler's repairs and the error classes, on a real Redis and a real database: an attempt
whose RQ job a worker took and never claimed, and a step with a bug."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq.job import Job
from rq.job import JobStatus as RQStatus

from pipeline import api, defaults, queue, reconciler
from pipeline.options import JobOptions
from pipeline.redis_server import embedded
from pipeline.settings import get_settings
from pipeline.store import get_store, transaction, utcnow
from tests.conftest import SAMPLES


@transaction
def _age_attempts(db, job_id: str, seconds: float) -> None:
    db.execute("UPDATE run_steps SET queued_at = ? WHERE job_id = ?", [utcnow() - timedelta(seconds=seconds), job_id])


@pytest.fixture
def taken_but_unclaimed(settings):
    """A validate attempt queued in DuckDB whose RQ job a worker took (started) and never
    claimed, as when a worker is killed between dequeue and claim."""
    server = embedded(settings)
    server.start()
    talk = SAMPLES / "creator-workflow-talk.srt"
    job_id = api.submit(transcript=talk.read_bytes(), transcript_name=talk.name).job_id
    [attempt] = get_store().rows("SELECT id FROM run_steps WHERE job_id = ?", [job_id])
    conn = queue.redis_client(get_settings())
    rq_job = Job.fetch(queue.rq_job_id(attempt["id"]), connection=conn)
    rq_job.set_status(RQStatus.STARTED)
    rq_job.worker_name = "host.4242"
    rq_job.save()
    get_store().run(_age_attempts, job_id, defaults.REQUEUE_AFTER_S + 1)  # past the grace for a fresh enqueue
    yield conn
    server.stop()


def test_an_attempt_taken_by_a_dead_worker_is_enqueued_again_at_once(taken_but_unclaimed):
    report = reconciler.reconcile_once(get_settings(), taken_but_unclaimed)
    assert report.requeued == 1  # not after STALE_CLAIM_S: the worker that took it is gone


def test_an_attempt_a_live_worker_is_about_to_claim_is_left_alone(taken_but_unclaimed):
    queue.announce_worker(taken_but_unclaimed, "host.4242")
    report = reconciler.reconcile_once(get_settings(), taken_but_unclaimed)
    assert report.requeued == 0


@pytest.fixture
def two_queued(settings):
    """Two jobs whose first attempts wait in the queue, past the grace for a fresh enqueue."""
    server = embedded(settings)
    server.start()
    talk = SAMPLES / "creator-workflow-talk.srt"
    jobs = [
        api.submit(transcript=talk.read_bytes(), transcript_name=talk.name, options=JobOptions(tone=tone)).job_id
        for tone in ("friendly", "bold")  # two jobs, not the same one twice
    ]
    for job_id in jobs:
        get_store().run(_age_attempts, job_id, defaults.REQUEUE_AFTER_S + 1)
    attempts = [get_store().row("SELECT id FROM run_steps WHERE job_id = ?", [job_id])["id"] for job_id in jobs]
    yield queue.redis_client(get_settings()), attempts
    server.stop()


def test_a_job_taken_off_its_queue_by_a_worker_killed_before_it_started_is_enqueued_again_first(two_queued):
    conn, (first, second) = two_queued
    waiting = queue.step_queue(conn, "default")
    assert waiting.job_ids == [queue.rq_job_id(first), queue.rq_job_id(second)]
    assert reconciler.reconcile_once(get_settings(), conn).requeued == 0  # both wait their turn: left alone

    assert conn.lpop(waiting.key) == queue.rq_job_id(first).encode()  # a worker's BLPOP, then the worker died
    assert queue.rq_state(conn, first) == "queued"  # RQ still says so; no queue holds it
    assert reconciler.reconcile_once(get_settings(), conn).requeued == 1
    assert waiting.job_ids == [queue.rq_job_id(first), queue.rq_job_id(second)]  # back, ahead of the later one


class _BrokenInsights:
    """A step with a bug: a KeyError nobody expected."""

    from pipeline.steps.insights import Inputs, Outputs  # noqa: F401  (the real step's declarations)

    @staticmethod
    def run(ctx, inputs):
        return {}["themes"]


from pipeline.stages import PIPELINE as _DEFAULT  # noqa: E402

BROKEN = _DEFAULT.replace("insights", module=_BrokenInsights)


def test_a_bug_is_an_internal_error_tried_once_with_its_traceback(settings, monkeypatch):
    """An unexpected exception is not retried as if the network had failed: one attempt, the job
    FAILED with INTERNAL_ERROR, and the traceback in the run's log."""
    from pipeline.process import forget_cached_state
    from pipeline.runner import run_queued

    monkeypatch.setenv("CLIPINSIGHT_PIPELINE", "tests.test_reconciler:BROKEN")
    forget_cached_state()
    talk = SAMPLES / "creator-workflow-talk.srt"
    job_id = api.submit(transcript=talk.read_bytes(), transcript_name=talk.name).job_id
    run_queued()
    report = api.status_report(job_id)
    assert (report["status"], report["error_code"]) == ("FAILED", "INTERNAL_ERROR")
    insights = [s for run in report["runs"] for s in run["steps"] if s["step"] == "insights"]
    assert len(insights) == 1 and "KeyError" in insights[0]["error_message"]
    logged = get_store().rows("SELECT message FROM run_logs WHERE job_id = ? AND level = 'ERROR'", [job_id])
    assert any("Traceback" in row["message"] and "KeyError: 'themes'" in row["message"] for row in logged)
