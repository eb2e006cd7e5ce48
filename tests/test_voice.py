"""A workspace's brand voice: versioned, pinned to each run, in every provider's drafts, checked by QA."""

from __future__ import annotations

import dataclasses
import json

import pytest
from pydantic import ValidationError

from pipeline import api, qa
from pipeline.access import Caller
from pipeline.models import Draft, VoiceProfile
from pipeline.options import JobOptions
from pipeline.providers.gemini import GeminiContentProvider
from pipeline.transcript import parse_transcript
from tests.conftest import SAMPLES
from tests.support.gemini_server import GeminiServer
from tests.test_cli import cli

VOICE = VoiceProfile(
    description="Warm, practical, short sentences; speaks to solo creators.",
    examples=["Batching saved my week. Here's the one rule that made it work."],
    use_phrases=["Hey makers,"],
    avoid_phrases=["hustle", "dashboards"],
    default_cta="Get the weekly notes at https://example.com/notes",
    hashtag_policy="fixed",
    hashtags=["#CreatorEconomy", "#Video"],
    max_hashtags=2,
    sign_off="Keep making, Ana",
)


def talk():
    return parse_transcript((SAMPLES / "creator-workflow-talk.srt").read_bytes(), "creator-workflow-talk.srt")


def test_every_save_is_a_new_version_and_the_old_ones_stay(data_dir):
    assert api.voice_profile("studio").version == 0 and api.voice_profile("studio").is_empty
    first = api.save_voice_profile("studio", VOICE, caller=Caller.local("ana"), note="launch")
    second = api.save_voice_profile(
        "studio", VOICE.model_copy(update={"sign_off": "Onward, Ana"}), caller=Caller.local("ben")
    )
    assert (first, second) == (1, 2)
    current = api.voice_profile("studio")
    assert (
        current.version == 2 and current.sign_off == "Onward, Ana" and current.hashtags == ["#CreatorEconomy", "#Video"]
    )
    assert [(h["version"], h["saved_by"], h["note"]) for h in api.voice_history("studio")] == [
        (1, "ana", "launch"),
        (2, "ben", None),
    ]
    assert api.voice_profile("default").is_empty  # another workspace has its own


def test_a_profile_that_cannot_be_used_is_refused():
    with pytest.raises(ValidationError, match="at most 5"):
        VoiceProfile(examples=[f"post {i}" for i in range(6)])
    with pytest.raises(ValidationError, match="hashtag policy"):
        VoiceProfile(hashtag_policy="lots")
    with pytest.raises(ValidationError, match="letters, digits"):
        VoiceProfile(hashtags=["#two words"])


def test_the_cli_shows_changes_and_lists_versions(data_dir):
    saved = cli("voice", "set", "--avoid", "hustle", "--sign-off", "Keep making", "--hashtags", "none", "--by", "ana")
    assert saved.returncode == 0 and "saved as v1" in saved.stdout
    cli("voice", "set", "--use", "Hey makers,")
    shown = json.loads(cli("voice", "show", "--json").stdout)
    assert (shown["version"], shown["avoid_phrases"], shown["use_phrases"]) == (2, ["hustle"], ["Hey makers,"])
    assert shown["hashtag_policy"] == "none" and shown["sign_off"] == "Keep making"
    assert cli("voice", "history").stdout.count("\nv") + 1 == 2


def test_qa_checks_the_avoid_list_the_default_cta_and_the_hashtag_policy():
    transcript = talk()
    body = "Plan the clips before you press record. Stop the hustle.\n\n#Growth"
    checks = {c.name: c for c in qa.run_checks(Draft(format="linkedin", title="T", body=body), transcript, voice=VOICE)}
    assert not checks["avoid_phrases"].passed and "hustle" in checks["avoid_phrases"].reason
    assert not checks["cta_present"].passed and "example.com/notes" in checks["cta_present"].reason
    assert not checks["hashtags"].passed and "#Growth" in checks["hashtags"].reason
    good = "Plan the clips before you press record.\n\nGet the weekly notes at https://example.com/notes\n\n#Video"
    checks = {c.name: c for c in qa.run_checks(Draft(format="linkedin", title="T", body=good), transcript, voice=VOICE)}
    assert checks["avoid_phrases"].passed and checks["cta_present"].passed and checks["hashtags"].passed
    assert checks["links"].passed  # the voice's own link is the creator's


def test_an_llm_is_told_the_voice_with_its_examples_fenced(settings):
    transcript = talk()
    with GeminiServer() as server:
        provider = GeminiContentProvider(
            dataclasses.replace(settings, gemini_api_key="k", gemini_base_url=server.base_url, gemini_rpm=1000)
        )
        pack = provider.insights(transcript, JobOptions()).value
        provider.draft("linkedin", transcript, pack, JobOptions(), voice=VOICE)
        [call] = server.generate_calls("linkedin")
    assert VOICE.description in call.system and '"hustle"' in call.system and "Keep making, Ana" in call.system
    assert "exactly these hashtags" in call.system and "https://example.com/notes" in call.user
    fence = call.system.split("<<<BEGIN EXAMPLES ", 1)[1].split(">>>", 1)[0]
    assert f"<<<END EXAMPLES {fence}>>>" in call.system and VOICE.examples[0] in call.system


def test_a_run_writes_in_the_voice_it_started_with_and_records_it(cluster):
    api.save_voice_profile("default", VOICE, caller=Caller.local("ana"))
    path = SAMPLES / "creator-workflow-talk.srt"
    job_id = api.submit(transcript=path.read_bytes(), transcript_name=path.name).job_id
    report = api.wait_for(job_id, timeout=120)

    assert report["status"] == "ANALYTICS_LOGGED", cluster.log_text()[-3000:]
    assert report["runs"][0]["voice_version"] == 1 and api.run_voice(report["runs"][0]["run_id"]).version == 1
    api.save_voice_profile(
        "default", VOICE.model_copy(update={"sign_off": "Onward"}), caller=Caller.local("ben")
    )  # v2, later
    bundle = api.bundle_files_for(job_id)
    linkedin, newsletter = bundle["drafts/linkedin.txt"], bundle["drafts/newsletter.md"]
    assert "Keep making, Ana" in linkedin and "Onward" not in linkedin
    assert "https://example.com/notes" in newsletter and "Hey makers," in newsletter
    assert linkedin.strip().endswith("#CreatorEconomy #Video")
    assert "hustle" not in (linkedin + newsletter).lower()
