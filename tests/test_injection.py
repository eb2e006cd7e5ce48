"""No injected instruction or link reaches a delivered draft without an editor's approval,
offline and on the Gemini path — even when the model is compromised and repeats the plant.

Each talk of the corpus (tests/support/injections.py: "ignore previous", role-play, fake system
lines, links, markup) is drafted in every format and reviewed as the pipeline does it. A job is
delivered without an editor only when QA's report does not require review; so for every talk,
a draft that still holds the plant after QA's fixes must be one QA sends to an editor.
"""

from __future__ import annotations

import dataclasses

import pytest

from pipeline import api, formats, qa
from pipeline.access import Caller
from pipeline.options import JobOptions
from pipeline.providers.gemini import GeminiContentProvider
from pipeline.providers.local import LocalContentProvider
from pipeline.transcript import parse_transcript
from tests.support.gemini_server import GeminiServer
from tests.support.injections import CORPUS, Injection, transcript_of

OPTIONS = JobOptions(formats=formats.names())


def reviewed(provider, injection: Injection):
    transcript = parse_transcript(transcript_of(injection), f"{injection.name}.srt")
    pack = provider.insights(transcript, OPTIONS).value
    drafts = {fmt: provider.draft(fmt, transcript, pack, OPTIONS).value for fmt in OPTIONS.formats}
    results = qa.review_job(drafts, transcript, options=OPTIONS, insights=pack)
    report = qa.build_report([review for review, _ in results], flags=qa.transcript_flags(transcript))
    return transcript, pack, drafts, results, report


def carries(text: str, injection: Injection) -> bool:
    return injection.found_in(text)


def test_the_corpus_covers_every_kind_of_plant():
    assert len(CORPUS) >= 20
    assert {i.kind for i in CORPUS} == {"ignore_previous", "role_play", "fake_system", "link", "markup"}


@pytest.mark.parametrize("injection", CORPUS, ids=lambda i: i.name)
def test_offline_drafts_never_carry_the_plant(injection):
    transcript, pack, _, results, report = reviewed(LocalContentProvider(), injection)

    assert not carries(pack.model_dump_json(), injection), "the insight pack repeats the plant"
    for review, fixed in results:
        assert not carries(fixed.text(), injection), (review.format, fixed.text())
    if carries(transcript.text, injection):  # the plant survived parsing: an editor sees the job first
        assert report.requires_review and report.transcript_flags


@pytest.fixture(scope="module")
def compromised():
    """A Gemini stand-in whose drafts repeat every planted line, as a model that obeyed would."""
    with GeminiServer(echo_injection=True) as server:
        yield server


@pytest.mark.parametrize("injection", CORPUS, ids=lambda i: i.name)
def test_a_compromised_model_is_caught_before_delivery(settings, compromised, injection):
    provider = GeminiContentProvider(
        dataclasses.replace(
            settings, gemini_api_key="k", gemini_base_url=compromised.base_url, gemini_rpm=10_000, gemini_tpm=10**9
        )
    )
    transcript, _, drafts, results, report = reviewed(provider, injection)

    if carries(transcript.text, injection):
        assert any(carries(d.text(), injection) for d in drafts.values()), "the stand-in should repeat the plant"
        assert report.requires_review, report.summary
    for review, fixed in results:
        if carries(fixed.text(), injection):
            assert review.requires_review and review.risk_flags, (review.format, fixed.text())


def test_a_planted_job_waits_for_an_editor_and_approval_delivers_clean_drafts(cluster):
    injection = next(i for i in CORPUS if i.name == "assistant-disregard")
    submitted = api.submit(transcript=transcript_of(injection), transcript_name="planted.srt", options=OPTIONS)
    report = api.wait_for(submitted.job_id, timeout=120)

    assert report["status"] == "REQUIRES_MANUAL_REVIEW", cluster.log_text()[-3000:]
    assert "instruction-like line" in report["status_reason"]
    api.approve(submitted.job_id, caller=Caller.local("maya"), note="checked: the plant is in no draft")
    assert api.wait_for(submitted.job_id, timeout=60)["status"] == "ANALYTICS_LOGGED"
    drafts = {name: text for name, text in api.bundle_files_for(submitted.job_id).items() if name.startswith("drafts/")}
    assert drafts and not any(carries(text, injection) for text in drafts.values())
