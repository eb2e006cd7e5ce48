"""What happens around a run: review by an editor, plan quota, completion webhooks, logs."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from pipeline import api
from pipeline.access import Caller
from pipeline.errors import Conflict, InvalidInput, QuotaExceeded
from pipeline.settings import get_settings
from pipeline.store import get_store, utcnow
from pipeline.store import jobs as job_rows
from tests.conftest import SAMPLES
from tests.support.http import Recorder


def submit(path, workspace="default"):
    return api.submit(transcript=path.read_bytes(), transcript_name=path.name, workspace=workspace).job_id


def test_flagged_drafts_wait_for_an_editor_then_get_delivered(cluster):
    job_id = submit(SAMPLES / "risky-interview.srt")
    report = api.wait_for(job_id, timeout=120)
    assert report["status"] == "REQUIRES_MANUAL_REVIEW"
    assert "deliver" not in {s["step"] for s in report["runs"][0]["steps"]}
    assert report["runs"][0]["status"] == "finished"  # resting until an editor decides
    with pytest.raises(InvalidInput, match="reason"):
        api.reject(job_id, reason="  ")

    api.approve(job_id, caller=Caller.local("maya"), note="checked the quotes")
    report = api.wait_for(job_id, timeout=60)
    assert report["status"] == "ANALYTICS_LOGGED"
    trail = get_store().run(job_rows.audit_trail, job_id)
    decision = get_store().row("SELECT decision, editor, reason FROM reviews WHERE job_id = ?", [job_id])
    run = get_store().run(job_rows.latest_run, job_id)
    delivered = get_store().scalar("SELECT finished_at FROM run_steps WHERE job_id = ? AND step = 'deliver'", [job_id])
    assert run["finished_at"] >= delivered  # the run closes when delivery does, not when QA paused it
    approved = [t for t in trail if t["move"] == "approve"]
    assert approved and approved[0]["actor"] == "maya" and approved[0]["to_status"] == "REVIEWED"
    assert decision == {"decision": "approved", "editor": "maya", "reason": "checked the quotes"}
    with pytest.raises(Conflict, match="not REQUIRES_MANUAL_REVIEW"):
        api.approve(job_id)


def test_rejection_ends_the_job_with_the_reason_recorded(cluster):
    job_id = submit(SAMPLES / "risky-interview.srt")
    assert api.wait_for(job_id, timeout=120)["status"] == "REQUIRES_MANUAL_REVIEW"
    api.reject(job_id, reason="the guest's revenue claim is not something we can print", caller=Caller.local("li"))
    report = api.status_report(job_id)
    assert report["status"] == "FAILED" and report["error_code"] == "REJECTED"
    assert "revenue claim" in report["status_reason"]
    rejected = [t for t in get_store().run(job_rows.audit_trail, job_id) if t["move"] == "reject"]
    assert rejected and rejected[0]["actor"] == "li"


def test_only_a_failed_or_blocked_job_can_be_retried(cluster):
    job_id = submit(SAMPLES / "creator-workflow-talk.srt")
    assert api.wait_for(job_id, timeout=120)["status"] == "ANALYTICS_LOGGED"
    with pytest.raises(Conflict, match="only a failed or blocked job can be retried"):
        api.retry(job_id)


def test_a_transcript_longer_than_the_plan_allows_is_refused_at_submission(settings):
    api.configure_workspace("tiny", plan="free")
    with pytest.raises(QuotaExceeded) as refused:
        submit(SAMPLES / "long-workshop.srt", workspace="tiny")
    message = str(refused.value)
    assert "60 min" in message and "20 min" in message and "larger plan" in message
    assert get_store().scalar("SELECT count(*) FROM jobs WHERE workspace = 'tiny'") == 0  # nothing was created


def test_monthly_minutes_run_out(settings):
    api.configure_workspace("busy", plan="free")
    with get_store().session() as db:  # 50 of the free plan's 60 minutes already used this month
        db.execute("INSERT INTO usage VALUES ('old.r1', 'old', 'busy', 50, 0, 0, 0, ?)", [utcnow()])
    with pytest.raises(QuotaExceeded, match="10 of its 60 monthly minutes left"):
        submit(SAMPLES / "creator-workflow-talk.srt", workspace="busy")


def test_media_whose_length_the_plan_cannot_take_is_blocked_once_its_length_is_known(cluster_factory):
    api.configure_workspace("full", plan="free")
    with get_store().session() as db:  # 59.9 of 60 minutes used; the 38 s sample video needs 0.6
        db.execute("INSERT INTO usage VALUES ('old.r1', 'old', 'full', 59.9, 0, 0, 0, ?)", [utcnow()])
    cluster_factory()
    job_id = api.submit(str(SAMPLES / "speech-sample.mp4"), workspace="full").job_id
    report = api.wait_for(job_id, timeout=60)
    assert report["status"] == "BLOCKED_ENTITLEMENT" and report["error_code"] == "QUOTA_EXCEEDED"
    assert "monthly minutes left" in report["status_reason"] and "upgrade" in report["status_reason"]


def test_webhook_is_signed_retried_and_sent_once_per_run(cluster_factory):
    cluster = cluster_factory(
        CLIPINSIGHT_PIPELINE="tests.support.steps:PIPELINE",
        CLIPINSIGHT_TEST_SLOW_STEP="deliver",
        CLIPINSIGHT_TEST_SLOW_WHEN="after",
        CLIPINSIGHT_ALLOW_PRIVATE_URLS="1",  # the receiver is on loopback
    )
    with Recorder(replies=[503]) as hook:
        secret = api.configure_workspace("hooked", webhook_url=hook.url)["webhook_secret"]
        job_id = submit(SAMPLES / "creator-workflow-talk.srt", workspace="hooked")
        started = _wait_for_file(get_settings().data_dir / "started-deliver")
        # the webhook went out (after one 503), now the worker dies before it can commit
        victim = next(p for p in cluster.workers if p.pid == int(started.read_text()))
        cluster.kill(victim)
        report = api.wait_for(job_id, timeout=60)
        time.sleep(0.5)
    assert report["status"] == "ANALYTICS_LOGGED"
    delivered = [r for r in hook.requests if r["code"] == 200]
    assert [r["code"] for r in hook.requests] == [503, 200] and len(delivered) == 1
    body, headers = delivered[0]["body"], {k.lower(): v for k, v in delivered[0]["headers"].items()}
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-clipinsight-signature"] == expected  # the workspace's own secret
    event = json.loads(body)
    assert event["job_id"] == job_id and event["type"] == "job.completed"
    assert headers["x-clipinsight-event"] == event["event_id"]


def _wait_for_file(path, timeout=90):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path


def test_each_step_leaves_log_lines_with_the_run(cluster):
    job_id = submit(SAMPLES / "creator-workflow-talk.srt")
    api.wait_for(job_id, timeout=120)
    lines = get_store().rows(
        "SELECT step, level, message, logged_at FROM run_logs WHERE job_id = ? ORDER BY id", [job_id]
    )
    steps = {line["step"] for line in lines}
    assert {"validate", "ingest", "transcribe", "insights", "draft:linkedin", "qa_review", "deliver"} <= steps
    assert all(line["level"] in ("INFO", "WARNING", "ERROR") and line["logged_at"] for line in lines)
    assert any("themes" in line["message"] for line in lines if line["step"] == "insights")


def test_rerun_from_drafts_regenerates_only_what_follows(cluster):
    job_id = submit(SAMPLES / "creator-workflow-talk.srt")
    assert api.wait_for(job_id, timeout=120)["status"] == "ANALYTICS_LOGGED"
    assert api.rerun(job_id, "drafts") == "INSIGHTS"
    report = api.wait_for(job_id, timeout=120)
    assert report["status"] == "ANALYTICS_LOGGED"
    second = report["runs"][1]
    assert second["start_step"] == "drafts"
    assert {s["step"] for s in second["steps"]} == {
        "draft:newsletter",
        "draft:blog",
        "draft:x_thread",
        "draft:linkedin",
        "qa_review",
        "deliver",
    }


def _talk_of(minutes: int, tag: str) -> bytes:
    """An SRT of ``minutes`` minutes whose words differ by ``tag`` (so no two are one job)."""
    cues = []
    for n in range(minutes * 2):
        start, end = n * 30, n * 30 + 30
        stamp = lambda s: f"00:{s // 60:02d}:{s % 60:02d},000"  # noqa: E731
        cues.append(f"{n + 1}\n{stamp(start)} --> {stamp(end)}\n{tag} says line {n} about making content every week.\n")
    return "\n".join(cues).encode()


@pytest.mark.parametrize("through", ["storekeeper", "file"])
def test_fifty_submissions_at_once_cannot_overshoot_a_plan_with_room_for_ten(through, cluster_factory, settings):
    """The plan's minutes are reserved in the transaction that accepts a job, so fifty creators
    submitting at the same moment get exactly the ten jobs the plan has room for."""
    from concurrent.futures import ThreadPoolExecutor

    if through == "storekeeper":
        cluster_factory(workers=0, reconciler=False)
    api.configure_workspace("busy", plan="free")  # 60 minutes a month; each talk needs 6

    def attempt(number: int) -> str:
        try:
            api.submit(transcript=_talk_of(6, f"creator{number}"), transcript_name=f"{number}.srt", workspace="busy")
            return "accepted"
        except QuotaExceeded:
            return "refused"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))
    assert outcomes.count("accepted") == 10 and outcomes.count("refused") == 40
    assert api.configure_workspace("busy")["used_minutes"] == 60.0


def test_a_job_that_ends_without_delivery_gives_its_minutes_back(settings):
    api.configure_workspace("busy", plan="free")  # 60 minutes a month, 20 per video
    held = [
        api.submit(transcript=_talk_of(15, f"talk{n}"), transcript_name=f"{n}.srt", workspace="busy").job_id
        for n in range(3)
    ]
    assert api.configure_workspace("busy")["used_minutes"] == 45.0  # held while the jobs run
    with pytest.raises(QuotaExceeded, match="15 of its 60 monthly minutes left"):
        api.submit(transcript=_talk_of(20, "long"), transcript_name="long.srt", workspace="busy")
    api.cancel(held[0])
    assert api.configure_workspace("busy")["used_minutes"] == 30.0
    api.submit(transcript=_talk_of(20, "long"), transcript_name="long.srt", workspace="busy")
