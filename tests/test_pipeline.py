"""The pipeline end to end on real parts: embedded Redis, worker processes, DuckDB files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pipeline import api
from pipeline.errors import InvalidInput
from pipeline.options import JobOptions
from pipeline.store import artifacts as artifact_rows
from pipeline.store import get_store
from pipeline.store import jobs as job_rows

KINDS = {
    "provided_transcript",
    "validation",
    "source",
    "transcript",
    "transcript_quality",
    "insights",
    "draft:newsletter",
    "draft:blog",
    "draft:x_thread",
    "draft:linkedin",
    "qa_report",
    "delivery",
}


def submit_sample(path: Path, **options) -> str:
    return api.submit(transcript=path.read_bytes(), transcript_name=path.name, options=JobOptions(**options)).job_id


def artifact_counts(job_id: str) -> dict[str, int]:
    rows = get_store().rows("SELECT kind, count(*) AS n FROM artifacts WHERE job_id = ? GROUP BY kind", [job_id])
    return {row["kind"]: row["n"] for row in rows}


def test_transcript_becomes_a_stored_content_pack(cluster, sample_srt, tmp_path):
    job_id = submit_sample(sample_srt)
    report = api.wait_for(job_id, timeout=120)

    assert report["status"] == "ANALYTICS_LOGGED", cluster.log_text()[-3000:]
    assert artifact_counts(job_id) == {kind: 1 for kind in KINDS}
    steps = [s["step"] for s in report["runs"][0]["steps"]]
    assert steps[:4] == ["validate", "ingest", "transcribe", "insights"] and steps[-2:] == ["qa_review", "deliver"]
    assert sorted(steps[4:8]) == ["draft:blog", "draft:linkedin", "draft:newsletter", "draft:x_thread"]

    trail = [row["to_status"] for row in get_store().run(job_rows.audit_trail, job_id)]
    usage = get_store().rows("SELECT * FROM usage WHERE job_id = ?", [job_id])
    insights = get_store().run(artifact_rows.load_artifact, job_id, "insights")
    assert trail == [
        "RECEIVED",
        "VALIDATED",
        "INGESTED",
        "TRANSCRIBED",
        "INSIGHTS",
        "DRAFTED",
        "REVIEWED",
        "DELIVERED",
        "STORED",
        "ANALYTICS_LOGGED",
    ]
    assert len(usage) == 1 and usage[0]["minutes"] == pytest.approx(14.1, abs=0.2)
    assert insights["provider"] == "local" and insights["prompt_name"] and insights["prompt_version"]

    out = tmp_path / "bundle"
    written = {p.relative_to(out).as_posix() for p in api.export_job(job_id, out)}
    assert {
        "drafts/linkedin.txt",
        "drafts/x_thread.txt",
        "transcript.srt",
        "insights.json",
        "qa_report.json",
    } <= written
    assert "Repurpos" in (out / "transcript.txt").read_text() or len((out / "transcript.txt").read_text()) > 5000


def test_parallel_drafts_run_on_different_workers(cluster_factory, sample_srt):
    cluster_factory(workers=4, CLIPINSIGHT_PROVIDER="tests.support.providers:slow", CLIPINSIGHT_TEST_LLM_DELAY="1")
    job_id = submit_sample(sample_srt)
    report = api.wait_for(job_id, timeout=120)
    assert report["status"] == "ANALYTICS_LOGGED"
    drafts = get_store().rows(
        "SELECT worker, started_at, finished_at FROM run_steps WHERE job_id = ? AND step LIKE 'draft:%'", [job_id]
    )
    assert len({d["worker"] for d in drafts}) >= 3
    # parallel: every draft started before any draft finished
    assert max(d["started_at"] for d in drafts) < min(d["finished_at"] for d in drafts)


def test_retryable_failure_succeeds_on_second_attempt(cluster_factory, sample_srt):
    cluster_factory(CLIPINSIGHT_PROVIDER="tests.support.providers:flaky")
    job_id = submit_sample(sample_srt)
    report = api.wait_for(job_id, timeout=120)
    assert report["status"] == "ANALYTICS_LOGGED"
    insights = [s for s in report["runs"][0]["steps"] if s["step"] == "insights"]
    assert [(s["attempt"], s["status"], s["error_code"]) for s in insights] == [
        (1, "failed", "GENERATION_FAILED"),
        (2, "done", None),
    ]
    assert artifact_counts(job_id)["insights"] == 1


def test_non_retryable_failure_fails_at_once(cluster_factory, sample_srt, data_dir):
    cluster_factory(CLIPINSIGHT_PROVIDER="tests.support.providers:revoked")
    job_id = submit_sample(sample_srt)
    report = api.wait_for(job_id, timeout=60)
    assert report["status"] == "FAILED"
    assert report["error_code"] == "API_KEY_INVALID" and "rejected" in report["status_reason"]
    insights = [s for s in report["runs"][0]["steps"] if s["step"] == "insights"]
    assert len(insights) == 1 and (data_dir / "counter-insights").read_text() == "1"


def test_too_short_transcript_fails_validation(cluster):
    job_id = api.submit(
        transcript="1\n00:00:01,000 --> 00:00:03,000\nHello there, friends.\n", transcript_name="short.srt"
    ).job_id
    report = api.wait_for(job_id, timeout=60)
    assert report["status"] == "FAILED_VALIDATION"
    assert "words" in report["status_reason"]


def test_same_source_while_active_returns_the_same_job(settings, sample_srt):
    first = api.submit(transcript=sample_srt.read_bytes(), transcript_name=sample_srt.name)
    again = api.submit(transcript=sample_srt.read_bytes(), transcript_name=sample_srt.name)
    other = api.submit(
        transcript=sample_srt.read_bytes(), transcript_name=sample_srt.name, options=JobOptions(tone="bold")
    )
    assert again.job_id == first.job_id and again.duplicate
    assert other.job_id != first.job_id


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "empty.srt", "empty"),
        (bytes(range(256)) * 20, "video.srt", "binary"),
        (b"1\n00:00:01,000 --> 00:00:99,000\nbad time\n", "bad.srt", "timestamp"),
        (b"1\nnot a time line\nhello\n", "broken.srt", "cue timings"),
        (b"WEBVTT\n\n00:05.000 --> 00:01.000\nbackwards\n", "back.vtt", "ends before it starts"),
    ],
)
def test_unusable_transcripts_get_a_clear_error_and_no_job(settings, content, name, message):
    with pytest.raises(InvalidInput, match=message):
        api.submit(transcript=content, transcript_name=name)
    assert get_store().scalar("SELECT count(*) FROM jobs") == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "step", ["validate", "ingest", "transcribe", "insights", "draft:linkedin", "qa_review", "deliver"]
)
def test_worker_killed_mid_step_does_not_lose_the_job(cluster_factory, sample_srt, data_dir, step):
    cluster = cluster_factory(
        workers=2, CLIPINSIGHT_PIPELINE="tests.support.steps:PIPELINE", CLIPINSIGHT_TEST_SLOW_STEP=step
    )
    job_id = submit_sample(sample_srt)
    marker = data_dir / f"started-{step}"
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, cluster.log_text()[-2000:]
        time.sleep(0.05)
    victim = next(p for p in cluster.workers if p.pid == int(marker.read_text()))
    cluster.kill(victim)

    report = api.wait_for(job_id, timeout=60)  # the lease notices, long before RQ's maintenance pass would
    assert report["status"] == "ANALYTICS_LOGGED", cluster.log_text()[-3000:]
    counts = artifact_counts(job_id)
    assert counts == {kind: 1 for kind in KINDS}
    attempts = [s for s in report["runs"][0]["steps"] if s["step"] == step]
    assert [(s["attempt"], s["status"]) for s in attempts] == [(1, "lost"), (2, "done")]


def test_status_json_contract(cluster, sample_srt):
    import subprocess
    import sys

    job_id = submit_sample(sample_srt, formats=["linkedin"])
    api.wait_for(job_id, timeout=120)
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "status", job_id, "--json"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        check=True,
    )
    report = json.loads(out.stdout)
    assert report["job_id"] == job_id and report["status"] == "ANALYTICS_LOGGED"
    step = report["runs"][0]["steps"][0]
    assert set(step) >= {"step", "status", "attempt", "error_code", "started_at", "finished_at"}
    assert {"kind", "format", "chars"} == set(report["artifacts"][0])
    assert "draft:newsletter" not in {a["kind"] for a in report["artifacts"]}
