"""Full runs on Gemini: real worker processes reach a local Gemini REST server through
GEMINI_BASE_URL with the real google-genai client. No network, no key."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from pipeline import api, defaults
from pipeline.options import JobOptions
from pipeline.store import get_store
from tests.support.gemini_server import SCRIPT, GeminiServer, answer, blocked, error, smart_payload

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
GENERATED = ["insights", "draft:blog", "draft:linkedin", "draft:newsletter", "draft:x_thread", "qa_report"]


@pytest.fixture
def server():
    with GeminiServer() as running:
        yield running


@pytest.fixture
def gemini_cluster(cluster_factory, server, monkeypatch):
    """Workers with a Gemini key that talk to the local server (limits high enough not to wait)."""
    env = {
        "GEMINI_API_KEY": "test-key",
        "GEMINI_BASE_URL": server.base_url,
        "GEMINI_RPM": "600",
        "GEMINI_TPM": "100000000",
        "CLIPINSIGHT_CALL_RETRY_INITIAL_S": "0.05",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cluster_factory()


def submit(name: str = "creator-workflow-talk.srt", **options) -> str:
    path = SAMPLES / name
    return api.submit(transcript=path.read_bytes(), transcript_name=path.name, options=JobOptions(**options)).job_id


def attempts(report: dict, step: str) -> list[tuple]:
    return [(s["attempt"], s["status"], s["error_code"]) for s in report["runs"][0]["steps"] if s["step"] == step]


def artifact_rows(job_id: str) -> dict[str, dict]:
    rows = get_store().rows("SELECT * FROM artifacts WHERE job_id = ?", [job_id])
    return {row["kind"]: row for row in rows}


def test_a_full_run_on_gemini_records_provider_prompts_tokens_and_cost(gemini_cluster, server):
    job_id = submit(cta_url="https://example.com/watch")
    report = api.wait_for(job_id, timeout=180)

    assert report["status"] == "ANALYTICS_LOGGED", gemini_cluster.log_text()[-3000:]
    rows = artifact_rows(job_id)
    for kind in GENERATED:
        row = rows[kind]
        assert (row["provider"], row["model"]) == ("gemini", "gemini-2.5-flash"), kind
        assert row["prompt_version"] in ("v1", "v2") and row["tokens_in"] > 0 and row["cost_usd"] > 0, kind
    assert rows["insights"]["prompt_name"] == "insights"
    assert rows["draft:x_thread"]["prompt_name"] == "draft_x_thread"
    assert rows["qa_report"]["prompt_name"] == "qa_judge"

    tasks = sorted(call.task for call in server.generate_calls())
    assert tasks == sorted(["insights", "newsletter", "blog", "x_thread", "linkedin"] + ["judge"] * 4)
    usage = get_store().row("SELECT * FROM usage WHERE job_id = ?", [job_id])
    logs = [r["message"] for r in get_store().rows("SELECT message FROM run_logs WHERE job_id = ?", [job_id])]
    assert usage["cost_usd"] == pytest.approx(sum(rows[k]["cost_usd"] for k in GENERATED), rel=1e-6)
    assert any("found word for word" in message for message in logs)


def test_a_429_is_retried_by_the_call_and_the_step_never_fails(gemini_cluster, server):
    server.script("insights", error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted.", retry_after=1))
    job_id = submit()
    report = api.wait_for(job_id, timeout=180)

    assert report["status"] == "ANALYTICS_LOGGED", gemini_cluster.log_text()[-3000:]
    assert attempts(report, "insights") == [(1, "done", None)]
    assert [c.reply.status for c in server.generate_calls("insights")] == [429, 200]


def test_a_rejected_key_fails_the_job_at_once(gemini_cluster, server):
    server.script("insights", error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."))
    job_id = submit()
    report = api.wait_for(job_id, timeout=120)

    assert report["status"] == "FAILED" and report["error_code"] == "API_KEY_INVALID"
    assert "GEMINI_API_KEY" in report["status_reason"] and "test-key" not in report["status_reason"]
    assert attempts(report, "insights") == [(1, "failed", "API_KEY_INVALID")]
    assert len(server.generate_calls()) == 1


def test_a_safety_block_fails_the_job_as_a_content_policy_violation(gemini_cluster, server):
    server.script("insights", blocked("SAFETY"))
    job_id = submit("risky-interview.srt")
    report = api.wait_for(job_id, timeout=120)

    assert report["status"] == "FAILED" and report["error_code"] == "CONTENT_POLICY_VIOLATION"
    assert attempts(report, "insights") == [(1, "failed", "CONTENT_POLICY_VIOLATION")]


def test_a_judge_that_flags_high_risk_sends_the_job_to_an_editor(gemini_cluster, server):
    def unsafe(request):
        payload = smart_payload(request)
        payload["accuracy"] = {"score": 2, "reason": "Claims a guaranteed revenue the speaker never promised."}
        return answer(payload)

    server.script("judge", unsafe)
    job_id = submit()
    report = api.wait_for(job_id, timeout=180)

    assert report["status"] == "REQUIRES_MANUAL_REVIEW", gemini_cluster.log_text()[-3000:]
    assert "accuracy 2/10" in report["status_reason"]


def test_a_qa_retry_judges_again_only_the_drafts_still_without_a_verdict(gemini_cluster, server):
    """The first draft is judged, the second's call spends its whole budget on 503s, the step
    fails once; its retry keeps the first verdict and asks the judge about the other three."""
    overloaded = error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
    server.script("judge", smart_payload_reply, *[overloaded] * defaults.CALL_MAX_TRIES)
    job_id = submit()
    report = api.wait_for(job_id, timeout=180)

    assert report["status"] == "ANALYTICS_LOGGED", gemini_cluster.log_text()[-3000:]
    assert [(a, s) for a, s, _ in attempts(report, "qa_review")] == [(1, "failed"), (2, "done")]
    judged = [c.reply.status for c in server.generate_calls("judge")]
    assert judged.count(200) == 4  # one verdict per draft: the first was not asked for twice
    assert judged.count(503) == defaults.CALL_MAX_TRIES
    logs = [r["message"] for r in get_store().rows("SELECT message FROM run_logs WHERE job_id = ?", [job_id])]
    assert any("the judge's scores from attempt 1 kept" in message for message in logs)


def smart_payload_reply(request):
    return answer(smart_payload(request))


@pytest.mark.slow
def test_an_upload_is_transcribed_by_gemini_and_becomes_a_content_pack(gemini_cluster, server, tmp_path):
    recording = tmp_path / "voice-memo.wav"
    with wave.open(str(recording), "wb") as out:  # a minute of audio; the server "hears" its fixed script
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(b"\x00\x00" * 16_000 * 60)
    job_id = api.submit(str(api.save_upload(recording.read_bytes(), recording.name))).job_id
    report = api.wait_for(job_id, timeout=240)

    assert report["status"] == "ANALYTICS_LOGGED", gemini_cluster.log_text()[-3000:]
    srt = next(text for name, text in api.bundle_files_for(job_id).items() if name.endswith(".srt"))
    assert SCRIPT[1][2] in srt
    transcript = artifact_rows(job_id)["transcript"]
    assert (transcript["provider"], transcript["prompt_name"]) == ("gemini", "transcribe")
    assert transcript["tokens_in"] >= 60 * 32 and transcript["cost_usd"] > 0  # a minute of audio tokens
    assert all(stored.deleted for stored in server.files.values())


def test_the_fifth_format_runs_end_to_end_on_gemini(gemini_cluster, server):
    job_id = submit(formats=["youtube_description", "x_thread"], cta_url="https://example.com/watch")
    report = api.wait_for(job_id, timeout=180)

    assert report["status"] == "ANALYTICS_LOGGED", gemini_cluster.log_text()[-3000:]
    rows = artifact_rows(job_id)
    assert rows["draft:youtube_description"]["prompt_name"] == "draft_youtube_description"
    description = api.bundle_files_for(job_id)["drafts/youtube_description.txt"]
    assert "\n0:00 " in description and "https://example.com/watch" in description and len(description) <= 5000
    assert sorted(call.task for call in server.generate_calls()) == sorted(
        ["insights", "youtube_description", "x_thread", "judge", "judge"]
    )


@pytest.fixture
def faulty_server():
    with GeminiServer(fault_rate=0.3, seed=11, retry_after_s=0.1) as running:
        yield running


def test_jobs_complete_when_30_percent_of_calls_answer_429_or_503(cluster_factory, faulty_server, monkeypatch):
    """Every call retries its own transient failures: no step fails, and the calls a fault costs
    are only the ones that failed."""
    cluster = cluster_factory(
        GEMINI_API_KEY="test-key",
        GEMINI_BASE_URL=faulty_server.base_url,
        GEMINI_RPM="600",
        GEMINI_TPM="100000000",  # the hour-long talk's calls would otherwise wait for the minute's token budget
        CLIPINSIGHT_CALL_RETRY_INITIAL_S="0.05",
    )
    jobs = [submit(name) for name in ("creator-workflow-talk.srt", "moon-speech-1962.srt", "long-workshop.srt")]
    reports = [api.wait_for(job_id, timeout=300) for job_id in jobs]

    assert [r["status"] for r in reports] == ["ANALYTICS_LOGGED"] * 3, cluster.log_text()[-3000:]
    for report in reports:
        assert all(s["attempt"] == 1 and s["status"] == "done" for s in report["runs"][0]["steps"])
    answered = [c.task for c in faulty_server.generate_calls() if c.reply.status == 200]
    assert faulty_server.faults_injected > 0
    # no call that succeeded was made twice: the answers are exactly those of a clean run
    assert sorted(answered) == sorted(3 * ["insights", "newsletter", "blog", "x_thread", "linkedin"] + ["judge"] * 12)
