"""Draft formats are data: one spec per format in pipeline/formats, and nothing else in the
product names a format."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import pytest

from pipeline import formats
from pipeline.models import Draft
from pipeline.options import JobOptions
from pipeline.prompts import load_prompt

ROOT = Path(__file__).resolve().parents[1]


def _code_files() -> list[Path]:
    files = [p for p in (ROOT / "pipeline").rglob("*.py") if "formats" not in p.relative_to(ROOT / "pipeline").parts]
    return files + sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]


def _format_words() -> set[str]:
    words = set()
    for name in formats.names():
        words |= {name, f"draft:{name}", f"draft_{name}", f"local_draft_{name}", name.upper()}
    return words


def test_no_module_outside_the_formats_package_names_a_format():
    """Strings and names in code (not comments or docstrings) never spell a format: QA, the
    providers, the pages, the exports and the step registry all iterate over the specs."""
    words, found = _format_words(), []
    for path in _code_files():
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        for token in tokens:
            value = token.string.strip("\"'") if token.type == tokenize.STRING else token.string
            if token.type in (tokenize.STRING, tokenize.NAME) and value in words:
                found.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {token.string}")
    assert found == []


def test_every_format_has_its_prompts_an_answer_schema_and_an_export():
    for spec in formats.specs():
        assert load_prompt(spec.prompt_name) and load_prompt(spec.local_prompt_name), spec.name
        assert spec.answer.__name__.endswith("Answer") and spec.exports, spec.name
        draft = Draft(
            format=spec.name, title="T", body="Some text.\n", posts=["1/1 Some text."] if spec.threaded else []
        )
        assert all(export.render(draft).strip() for export in spec.exports), spec.name


def test_a_job_gets_the_four_default_formats_and_the_fifth_on_request():
    assert JobOptions().formats == ["newsletter", "blog", "x_thread", "linkedin"]
    assert JobOptions(formats=["youtube_description", "blog"]).formats == ["blog", "youtube_description"]
    assert formats.get("youtube_description").limits.total == 5000
    with pytest.raises(ValueError, match="unknown draft format 'podcast'.*youtube_description"):
        JobOptions(formats=["podcast"])


def test_a_thread_reserves_the_same_room_for_its_numbering_everywhere():
    spec = formats.get("x_thread")
    room = spec.post_room
    assert room == 280 - len("25/25 ")
    schema = spec.answer.model_json_schema()
    assert schema["properties"]["posts"]["items"]["maxLength"] == room


def test_the_fifth_format_runs_end_to_end_offline(cluster):
    from pipeline import api
    from tests.conftest import SAMPLES

    path = SAMPLES / "creator-workflow-talk.srt"
    options = JobOptions(formats=["youtube_description", "linkedin"], cta_url="https://example.com/watch")
    job_id = api.submit(transcript=path.read_bytes(), transcript_name=path.name, options=options).job_id
    report = api.wait_for(job_id, timeout=120)

    assert report["status"] == "ANALYTICS_LOGGED", cluster.log_text()[-3000:]
    assert {a["kind"] for a in report["artifacts"]} >= {"draft:youtube_description", "draft:linkedin"}
    description = api.bundle_files_for(job_id)["drafts/youtube_description.txt"]
    assert description.count("\n0:00 Introduction\n") == 1 and "https://example.com/watch" in description
