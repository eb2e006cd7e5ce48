"""The OpenAI-compatible adapter against a local server that speaks the chat-completions protocol:
the real ``openai`` SDK, real HTTP, no network and no key. The same server plays OpenAI (structured
output by JSON schema), an older local server (JSON mode only) and a bare one (no structured
output at all, so the schema goes in the prompt and answers are validated and asked again)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline import api, formats, qa
from pipeline.errors import ErrorCode, StepError
from pipeline.options import JobOptions
from pipeline.providers import content_provider, describe
from pipeline.providers.openai_compat import OpenAIContentProvider
from pipeline.settings import Settings
from pipeline.store import get_store
from pipeline.text import normalize_text
from pipeline.transcript import Transcript, parse_transcript
from tests.support.openai_server import OpenAIServer, answer, error, smart_payload

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
OPTIONS = JobOptions(cta_url="https://example.com/full-talk", formats=formats.names())


@pytest.fixture
def server():
    with OpenAIServer() as running:
        yield running


def openai_settings(settings: Settings, server: OpenAIServer, **changes) -> Settings:
    return dataclasses.replace(
        settings,
        provider="openai",
        openai_base_url=server.base_url,
        openai_model="llama3.1:8b",
        openai_rpm=1000,
        call_retry_initial_s=0.01,
        **changes,
    )


@pytest.fixture
def provider(settings, server) -> OpenAIContentProvider:
    return OpenAIContentProvider(openai_settings(settings, server))


@pytest.fixture
def talk() -> Transcript:
    return parse_transcript((SAMPLES / "creator-workflow-talk.srt").read_bytes(), "creator-workflow-talk.srt")


def failure(call) -> StepError:
    with pytest.raises(StepError) as caught:
        call()
    return caught.value


def test_insights_use_the_servers_structured_output_and_are_grounded(provider, server, talk):
    generation = provider.insights(talk, JobOptions())

    spoken = f" {normalize_text(talk.text)} "
    assert generation.value.quotes and all(f" {normalize_text(q.text)} " in spoken for q in generation.value.quotes)
    prov = generation.provenance
    assert (prov.provider, prov.model, prov.prompt_name) == ("openai", "llama3.1:8b", "insights")
    assert prov.tokens_in > 2000 and prov.tokens_out > 100 and prov.cost_usd == 0  # a local model costs nothing
    [call] = server.calls()
    assert call.path == "/v1/chat/completions" and call.body["model"] == "llama3.1:8b"
    assert call.response_format["type"] == "json_schema"
    assert call.response_format["json_schema"]["name"] == "InsightsAnswer"
    assert call.roles == ["system", "user"] and "<<<BEGIN TRANSCRIPT" in call.user


def test_every_format_is_drafted_within_its_limits_and_passes_qa(provider, server, talk):
    pack = provider.insights(talk, OPTIONS).value
    drafts = {fmt: provider.draft(fmt, talk, pack, OPTIONS).value for fmt in formats.names()}

    for review, _ in qa.review_job(drafts, talk, options=OPTIONS, insights=pack):
        assert not review.requires_review, (review.format, [c for c in review.checks if not c.passed])
    assert "0:00 " in drafts["youtube_description"].body and OPTIONS.cta_url in drafts["youtube_description"].body
    assert all(len(post) <= 280 for post in drafts["x_thread"].posts)
    assert [c.task for c in server.calls()][1:] == formats.names()


def test_a_server_without_json_schema_gets_json_mode_and_the_schema_in_the_prompt(settings, talk):
    with OpenAIServer(structured="json_object") as older:
        provider = OpenAIContentProvider(openai_settings(settings, older))
        provider.insights(talk, JobOptions())
        provider.insights(talk, JobOptions())
        calls = older.calls()

    refused, asked, again = calls
    assert refused.response_format["type"] == "json_schema" and refused.reply.status == 400
    assert asked.response_format == {"type": "json_object"} and '"title":"InsightsAnswer"' in asked.system
    assert again.response_format == {"type": "json_object"}  # the server's level is remembered


def test_a_bare_server_is_validated_and_asked_again_when_the_answer_does_not_fit(settings, talk):
    with OpenAIServer(structured="none") as bare:
        bare.script("insights", answer("Here are the insights you asked for: plenty of themes."))
        provider = OpenAIContentProvider(openai_settings(settings, bare, openai_structured="none"))
        generation = provider.insights(talk, JobOptions())
        first, second = bare.calls()

    assert generation.value.themes and any("asked again" in note for note in generation.notes)
    assert first.response_format is None and "JSON schema" in first.system
    assert second.roles == ["system", "user", "assistant", "user"] and "could not be used" in second.user


def test_a_rejected_key_fails_at_once_and_says_what_to_check(provider, server, talk):
    server.script("insights", error(401, "Incorrect API key provided.", kind="invalid_request_error"))
    problem = failure(lambda: provider.insights(talk, JobOptions()))
    assert problem.code is ErrorCode.API_KEY_INVALID and "OPENAI_API_KEY" in problem.message
    assert len(server.calls()) == 1


@pytest.mark.parametrize(
    "reply",
    [error(503, "The server is overloaded."), error(429, "Rate limit reached.", retry_after=0.05), error(500, "boom")],
)
def test_a_transient_error_is_retried_in_place(provider, server, talk, reply):
    server.script("insights", reply)
    assert provider.insights(talk, JobOptions()).value.quotes
    assert [c.reply.status for c in server.calls()] == [reply.status, 200]


def test_a_server_that_stays_down_fails_with_the_steps_code_after_the_calls_budget(provider, server, talk):
    server.script("insights", *[error(503, "The server is overloaded.")] * 5)
    problem = failure(lambda: provider.insights(talk, JobOptions()))
    assert problem.code is ErrorCode.GENERATION_FAILED and problem.code.retryable
    assert len(server.calls()) == 5


def test_an_answer_missing_the_link_is_asked_again(provider, server, talk):
    pack = provider.insights(talk, OPTIONS).value

    def no_link(request):
        payload = smart_payload(request)
        payload["body"] = payload["body"].replace(OPTIONS.cta_url, "the link below")
        return answer(payload)

    server.script("linkedin", no_link)
    assert OPTIONS.cta_url in provider.draft("linkedin", talk, pack, OPTIONS).value.body
    assert "call-to-action link" in server.calls("linkedin")[1].user


def test_settings_choose_the_adapter_and_say_how_to_fix_a_missing_server(settings, server):
    configured = openai_settings(settings, server)
    assert content_provider(configured).name == "openai"
    assert describe(configured) == f"OpenAI-compatible (llama3.1:8b at {server.base_url})"
    unset = dataclasses.replace(settings, provider="openai", openai_base_url=None, openai_api_key=None)
    problem = failure(lambda: OpenAIContentProvider(unset))
    assert problem.code is ErrorCode.API_KEY_INVALID and "OPENAI_BASE_URL" in problem.message


# --- Whole runs -------------------------------------------------------------------------------


@pytest.fixture
def openai_cluster(cluster_factory, server):
    return cluster_factory(
        CLIPINSIGHT_PROVIDER="openai",
        OPENAI_BASE_URL=server.base_url,
        OPENAI_MODEL="llama3.1:8b",
        OPENAI_RPM="1000",
        CLIPINSIGHT_CALL_RETRY_INITIAL_S="0.05",
    )


def test_a_full_run_with_every_format_on_an_openai_compatible_server(openai_cluster, server):
    path = SAMPLES / "creator-workflow-talk.srt"
    options = JobOptions(formats=formats.names(), cta_url="https://example.com/watch")
    job_id = api.submit(transcript=path.read_bytes(), transcript_name=path.name, options=options).job_id
    report = api.wait_for(job_id, timeout=180)

    assert report["status"] == "ANALYTICS_LOGGED", openai_cluster.log_text()[-3000:]
    rows = {r["kind"]: r for r in get_store().rows("SELECT * FROM artifacts WHERE job_id = ?", [job_id])}
    assert rows["draft:youtube_description"]["provider"] == "openai"
    assert rows["draft:youtube_description"]["prompt_name"] == "draft_youtube_description"
    bundle = api.bundle_files_for(job_id)
    assert bundle["drafts/youtube_description.txt"].count("\n0:00 ") == 1
    assert sorted(c.task for c in server.calls("judge")) == ["judge"] * 5


def test_calls_retry_their_own_faults_when_30_percent_of_answers_are_429_or_503(settings, talk):
    with OpenAIServer(fault_rate=0.3, seed=5, retry_after_s=0.01) as flaky:
        provider = OpenAIContentProvider(openai_settings(settings, flaky))
        pack = provider.insights(talk, OPTIONS).value
        drafts = [provider.draft(fmt, talk, pack, OPTIONS).value for fmt in formats.names()]
        for draft in drafts:
            provider.judge(draft, talk)
        answered = [c.task for c in flaky.calls() if c.reply.status == 200]

    assert flaky.faults_injected > 0
    assert sorted(answered) == sorted(["insights", *formats.names(), *["judge"] * len(drafts)])  # none twice


def test_only_the_adapters_import_an_llm_sdk():
    root = Path(__file__).resolve().parents[1]
    importing = {
        path.relative_to(root).as_posix()
        for path in (root / "pipeline").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(("import openai", "from openai", "from google import genai", "from google.genai"))
    }
    assert importing == {"pipeline/providers/gemini.py", "pipeline/providers/openai_compat.py"}
