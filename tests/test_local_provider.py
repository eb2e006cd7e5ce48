"""The offline provider as a creator meets it: insights from a talk, four drafts from them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from pipeline import formats, qa
from pipeline.export import draft_exports
from pipeline.models import InsightPack, Quote, Theme, VoiceProfile
from pipeline.options import JobOptions
from pipeline.prompts import list_versions
from pipeline.providers.base import DRAFTS, INSIGHTS, INSTRUCTIONS, JUDGE, ContentProvider
from pipeline.providers.local import LocalContentProvider, rebuild_sentences
from pipeline.qa import run_checks
from pipeline.text import normalize_text, sentences
from pipeline.transcript import Segment, Transcript, parse_transcript, timestamp

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
CTA = "https://example.com/watch?v=abc"

# Cues that split sentences anywhere, as auto-captions do, with a speaker label on each turn.
SPLIT_CUES_SRT = """1
00:00:00,000 --> 00:00:03,000
ALEX: One good recording is not one piece

2
00:00:03,000 --> 00:00:06,500
of content; it is the raw material for a whole week. Plan the

3
00:00:06,500 --> 00:00:09,000
clips before you press record, not after you have forgotten what you said.

4
00:00:09,500 --> 00:00:14,000
SAM: Why does the plan matter so much for a small creator with no team?

5
00:00:14,500 --> 00:00:19,000
ALEX: Because a plan turns one long session into a week of posts without extra filming.
"""

SHORT_TEXT = (
    "Batching saves my week. I record every video on Monday and edit on Tuesday. "
    "The rest of the week belongs to writing, so my newsletter never starts from a blank page."
)


def sample(name: str) -> Transcript:
    path = SAMPLES / name
    return parse_transcript(path.read_bytes(), path.name)


@pytest.fixture(scope="module")
def provider() -> LocalContentProvider:
    return LocalContentProvider()


@pytest.fixture(scope="module")
def talk() -> Transcript:
    return sample("creator-workflow-talk.srt")


@pytest.fixture(scope="module")
def talk_insights(provider, talk) -> InsightPack:
    return provider.insights(talk, JobOptions()).value


def _segment_with_start(transcript: Transcript, start: float):
    return next(s for s in transcript.segments if s.start == start)


# --- Insights -------------------------------------------------------------------------------


def test_sentences_split_across_cues_are_rebuilt_with_the_start_of_their_first_cue():
    transcript = parse_transcript(SPLIT_CUES_SRT, "split.srt")
    sentences = rebuild_sentences(transcript)
    texts = [s.text for s in sentences]
    assert texts[0] == "One good recording is not one piece of content; it is the raw material for a whole week."
    assert (sentences[0].start, sentences[0].end) == (0.0, 6.5)
    assert texts[1] == "Plan the clips before you press record, not after you have forgotten what you said."
    assert (sentences[1].start, sentences[1].end) == (3.0, 9.0)  # starts inside cue 2
    assert [s.speaker for s in sentences] == ["ALEX", "ALEX", "SAM", "ALEX"]


def test_quotes_from_split_cues_are_whole_sentences_with_their_start_time(provider):
    transcript = parse_transcript(SPLIT_CUES_SRT, "split.srt")
    quotes = {q.text: q for q in provider.insights(transcript, JobOptions()).value.quotes}
    assert quotes, "a short talk still yields quotes"
    plan = quotes.get("Plan the clips before you press record, not after you have forgotten what you said.")
    assert plan is not None and plan.start == 3.0 and plan.end == 9.0 and plan.speaker == "ALEX"


def test_sample_talk_gives_a_usable_insight_pack(talk_insights):
    pack = talk_insights
    assert 3 <= len(pack.themes) <= 7
    assert 5 <= len(pack.quotes) <= 10
    assert 4 <= len(pack.outline) <= 10
    assert pack.title == "Repurposing One Video into a Week of Content"  # as the speaker announces it
    assert 2 <= len(re.findall(r"[.!?](?:\s|$)", pack.summary)) <= 3
    for theme in pack.themes:
        assert theme.title and theme.summary and theme.keywords


def test_quotes_are_verbatim_transcript_sentences_with_the_times_of_their_cues(talk, talk_insights):
    for quote in talk_insights.quotes:
        assert quote.text in talk.text
        assert 8 <= len(quote.text.split()) <= 35
        first_cue = _segment_with_start(talk, quote.start)
        assert quote.text.split(",")[0][:30] in first_cue.text, (timestamp(quote.start), quote.text)
        assert any(s.end == quote.end and quote.text[-20:] in s.text for s in talk.segments)


def test_quotes_are_spread_over_the_talk_and_its_themes(talk, talk_insights):
    starts = sorted(q.start for q in talk_insights.quotes)
    assert starts[-1] - starts[0] > talk.duration / 2
    assert len({q.theme for q in talk_insights.quotes}) >= 4
    assert not any(q.text.endswith("?") for q in talk_insights.quotes)


def test_outline_starts_where_the_speaker_starts_each_part(talk_insights):
    parts = {item.title: item.start for item in talk_insights.outline}
    announced = {
        "Planning the Recording": 89,
        "Capturing Quotable Moments": 242,
        "Formats per Platform": 388,
        "Measuring Results": 547,
        "Avoiding Burnout": 670,
    }
    for title, start in announced.items():
        assert abs(parts[title] - start) < 5, title
    assert [t.title for t in talk_insights.themes] == list(announced)
    starts = [item.start for item in talk_insights.outline]
    assert starts == sorted(starts) and starts[0] == pytest.approx(0.4)


def test_interview_quotes_name_their_speaker_and_never_repeat_the_injected_instruction(provider):
    pack = provider.insights(sample("risky-interview.srt"), JobOptions()).value
    assert {q.speaker for q in pack.quotes} <= {"HOST", "GUEST"}
    everything = pack.model_dump_json().lower()
    assert "previous instructions" not in everything


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_every_insights_version_stays_in_range(provider, talk, version):
    pack = provider.insights(talk, JobOptions(), prompt_version=version).value
    assert 3 <= len(pack.themes) <= 7 and 5 <= len(pack.quotes) <= 10 and 4 <= len(pack.outline) <= 10


def test_insights_v2_gives_more_quotes_than_v1(provider, talk):
    v1 = provider.insights(talk, JobOptions(), prompt_version="v1").value
    v2 = provider.insights(talk, JobOptions(), prompt_version="v2").value
    assert len(v2.quotes) > len(v1.quotes)
    assert v1.summary != v2.summary


def test_one_hour_workshop_gives_insights(provider):
    transcript = sample("long-workshop.srt")
    started = time.perf_counter()
    generation = provider.insights(transcript, JobOptions())
    elapsed = time.perf_counter() - started
    print(f"\ninsights on {transcript.word_count} words ({timestamp(transcript.duration)}): {elapsed:.3f} s")
    pack = generation.value
    assert 3 <= len(pack.themes) <= 7 and 5 <= len(pack.quotes) <= 10 and len(pack.outline) == 10
    assert all(q.text in transcript.text for q in pack.quotes)


@pytest.mark.parametrize(
    "text",
    [
        SHORT_TEXT,
        "Record once, publish all week, and protect your energy for the ideas that matter most to your audience.",
        "so we just kept going and going and nobody really knew what the plan was but it worked out in the end somehow",
        "Hi.",
    ],
)
def test_a_very_short_transcript_gives_a_pack_and_drafts(provider, text):
    transcript = parse_transcript(text, "short.txt")
    options = JobOptions(cta_url=CTA)
    pack = provider.insights(transcript, options).value
    assert pack.title and len(pack.outline) >= 1
    assert len(pack.themes) <= 7 and len(pack.quotes) <= 10
    for fmt in formats.names():
        draft = provider.draft(fmt, transcript, pack, options).value
        assert CTA in draft.text()


def test_captions_without_punctuation_still_give_verbatim_quotes(provider, talk):
    words = re.sub(r"[^\w\s']", "", talk.text).lower().split()
    cues = [" ".join(words[i : i + 8]) for i in range(0, len(words), 8)]
    captions = Transcript(segments=[Segment(start=3.0 * i, end=3.0 * i + 3, text=c) for i, c in enumerate(cues)])
    pack = provider.insights(captions, JobOptions()).value
    assert 5 <= len(pack.quotes) <= 10 and 3 <= len(pack.themes) <= 7
    assert all(q.text in captions.text and len(q.text.split()) <= 35 for q in pack.quotes)
    assert pack.title == "Repurposing One Video into a Week of Content"


def test_the_same_input_gives_the_same_output(talk):
    options = JobOptions(tone="bold", cta_url=CTA)
    first, second = LocalContentProvider(), LocalContentProvider()
    assert first.insights(talk, options).value == second.insights(talk, options).value
    pack = first.insights(talk, options).value
    for fmt in formats.names():
        assert first.draft(fmt, talk, pack, options).value == second.draft(fmt, talk, pack, options).value


# --- The speech a creator brings: someone else's words ------------------------------------

MOON_LINE = (
    "We choose to go to the Moon in this decade and do the other things, not because they are easy, "
    "but because they are hard"
)
KENNEDY = JobOptions(speaker="John F. Kennedy", formats=formats.names())


@pytest.fixture(scope="module")
def moon() -> Transcript:
    return sample("moon-speech-1962.srt")


@pytest.fixture(scope="module")
def moon_drafts(provider, moon):
    pack = provider.insights(moon, KENNEDY).value
    return pack, {fmt: provider.draft(fmt, moon, pack, KENNEDY).value for fmt in formats.names()}


def test_the_best_known_line_of_the_moon_speech_is_its_top_quote_and_title(moon_drafts):
    pack, drafts = moon_drafts
    assert pack.quotes[0].text == MOON_LINE  # the opening clauses of a 70-word sentence
    assert pack.title == "We choose to go to the Moon in this decade"
    for fmt in ("newsletter", "x_thread", "linkedin"):
        assert MOON_LINE in drafts[fmt].text(), fmt


def test_someone_elses_speech_is_quoted_and_credited_never_called_mine(moon_drafts, moon):
    pack, drafts = moon_drafts
    for fmt, draft in drafts.items():
        text = draft.text()
        assert "Kennedy" in text, fmt
        assert not re.search(r"\bmy (?:latest )?(?:video|talk|speech)\b", text, re.IGNORECASE), fmt
        checks = {c.name: c for c in run_checks(draft, moon, KENNEDY, insights=pack)}
        assert checks["attribution"].passed and checks["quotes_grounded"].passed, (fmt, checks["attribution"])


# --- Drafts: what a creator would publish -----------------------------------------------------

SAMPLE_JOBS = [
    ("creator-workflow-talk.srt", None),
    ("risky-interview.srt", None),
    ("long-workshop.srt", None),
    ("moon-speech-1962.srt", "John F. Kennedy"),
]


@pytest.fixture(scope="module")
def sample_drafts(provider) -> dict[str, tuple[Transcript, InsightPack, dict]]:
    made = {}
    for name, speaker in SAMPLE_JOBS:
        transcript = sample(name)
        options = JobOptions(speaker=speaker, formats=formats.names())
        pack = provider.insights(transcript, options).value
        made[name] = (
            transcript,
            pack,
            {fmt: provider.draft(fmt, transcript, pack, options).value for fmt in options.formats},
        )
    return made


def test_no_keyword_glue_no_boilerplate_titles_no_empty_parts(sample_drafts):
    for name, (transcript, pack, drafts) in sample_drafts.items():
        for fmt, draft in drafts.items():
            checks = {c.name: c for c in run_checks(draft, transcript, insights=pack, siblings=drafts)}
            for check in ("keyword_soup", "title", "empty_parts", "hashtags", "cross_format_repetition", "length"):
                assert checks[check].passed, (name, fmt, checks[check].reason)
            assert "What Works" not in draft.title and not draft.title.endswith(":")


def test_no_sentence_is_shared_by_the_drafts_of_different_talks(sample_drafts):
    """Glue text varies with the content: no fixed phrase turns up in every job."""
    seen: dict[str, set[str]] = {}
    for name, (_, _, drafts) in sample_drafts.items():
        keys = {normalize_text(s) for d in drafts.values() for line in d.text().splitlines() for s in sentences(line)}
        seen[name] = {k for k in keys if len(k.split()) >= 4}
    for name, keys in seen.items():
        others = set().union(*(k for other, k in seen.items() if other != name))
        assert not keys & others, (name, keys & others)


def test_newsletter_and_blog_differ_in_shape_and_length(sample_drafts):
    for name, (_, _, drafts) in sample_drafts.items():
        newsletter, blog = drafts["newsletter"], drafts["blog"]
        assert len(blog.text().split()) > len(newsletter.text().split()), name
        assert blog.body.count("\n## ") >= 2 and newsletter.body.count("\n## ") == 0, name
        mine = qa.reading.sentence_keys(newsletter, prose_only=True)
        shared = mine & qa.reading.sentence_keys(blog, prose_only=True)
        assert len(shared) <= 0.2 * len(mine), (name, shared)


def test_drafts_grow_with_the_source(sample_drafts):
    words = {name: len(drafts["blog"].text().split()) for name, (_, _, drafts) in sample_drafts.items()}
    assert words["long-workshop.srt"] > 1.5 * words["creator-workflow-talk.srt"] > 1.5 * words["moon-speech-1962.srt"]


def test_quotes_in_every_draft_are_the_speakers_words(sample_drafts):
    for name, (transcript, pack, drafts) in sample_drafts.items():
        for fmt, draft in drafts.items():
            checks = {c.name: c for c in run_checks(draft, transcript, insights=pack)}
            assert checks["quotes_grounded"].passed and checks["quote_coverage"].passed, (name, fmt)


@pytest.mark.parametrize("tone", ["friendly", "professional", "bold"])
@pytest.mark.parametrize("name", ["creator-workflow-talk.srt", "risky-interview.srt", "long-workshop.srt"])
def test_x_thread_posts_are_numbered_and_fit(provider, name, tone):
    transcript = sample(name)
    options = JobOptions(tone=tone, cta_url=CTA)
    pack = provider.insights(transcript, options).value
    thread = provider.draft("x_thread", transcript, pack, options).value
    total = len(thread.posts)
    for number, post in enumerate(thread.posts, 1):
        assert post.startswith(f"{number}/{total} ")
        assert len(post) <= 280 and len(post.split()) >= 4
    assert CTA in thread.posts[-1]
    assert thread.body == "\n\n".join(thread.posts)


def test_the_x_thread_export_pastes_post_by_post(sample_drafts):
    """What a creator pastes into X, one post at a time: within 280 characters, no heading, no
    video timestamp, no separator line."""
    for name, (_, _, drafts) in sample_drafts.items():
        [(filename, text, _)] = draft_exports(drafts["x_thread"])
        assert filename == "x_thread.txt"
        pasted = [post for post in text.split("\n\n") if post.strip()]
        assert len(pasted) == len(drafts["x_thread"].posts), name
        for post in pasted:
            assert len(post) <= 280, (name, post)
            assert not re.search(r"^\s*#|^\s*-{3,}\s*$", post, re.MULTILINE), (name, post)
            assert not re.search(r"\b\d{1,2}:\d{2}\b", post), (name, post)


def test_linkedin_fits_with_a_hook_cta_and_hashtags_made_of_words(provider, talk, talk_insights):
    post = provider.draft("linkedin", talk, talk_insights, JobOptions(cta_url=CTA)).value.body
    assert len(post) <= 3000 and CTA in post
    tags = re.findall(r"#\w+", post.splitlines()[-1])
    assert 1 <= len(tags) <= 3 and not qa.checks.bad_hashtags(" ".join(tags))
    assert max(len(p) for p in post.split("\n\n")) < 1200, "short paragraphs"


def test_linkedin_stays_under_the_limit_when_the_pack_is_huge(provider, talk):
    sentence = "Plan the clips before you press record, not after you've forgotten what you said."
    themes = [Theme(title=f"Theme {c}", summary=" ".join([sentence] * 6), keywords=["plan"]) for c in "ABCDEFG"]
    quotes = [Quote(text=sentence, start=125.0, end=130.0) for _ in range(10)]
    pack = InsightPack(title="Big", summary=" ".join([sentence] * 12), themes=themes, quotes=quotes, outline=[])
    for version in list_versions("local_draft_linkedin"):
        post = provider.draft("linkedin", talk, pack, JobOptions(cta_url=CTA), prompt_version=version).value.body
        assert len(post) <= 3000 and CTA in post


def test_youtube_description_has_chapters_from_zero_within_the_limit(sample_drafts):
    for name, (transcript, pack, drafts) in sample_drafts.items():
        description = drafts["youtube_description"]
        chapters = re.findall(r"^(\d+:\d{2}(?::\d{2})?) (.+)$", description.body, re.MULTILINE)
        assert len(description.body) <= 5000 and "<" not in description.body and ">" not in description.body
        if len(pack.outline) >= 3:
            assert chapters[0][0] == "0:00" and len(chapters) >= 3, name
        checks = {c.name: c for c in run_checks(description, transcript, insights=pack)}
        assert checks["chapters"].passed, (name, checks["chapters"].reason)


def test_tone_changes_which_lines_lead(provider, talk, talk_insights):
    bodies = {
        tone: provider.draft("linkedin", talk, talk_insights, JobOptions(tone=tone)).value.body
        for tone in ("friendly", "professional", "bold")
    }
    assert len(set(bodies.values())) >= 2


def test_the_voice_profile_reaches_the_offline_drafts(provider, talk, talk_insights):
    voice = VoiceProfile(
        version=3,
        default_cta="Get the weekly notes at https://example.com/notes",
        hashtag_policy="fixed",
        hashtags=["#CreatorEconomy", "#Video"],
        sign_off="Keep making, Ana",
        use_phrases=["Hey makers,"],
        avoid_phrases=["dashboards"],
    )
    options = JobOptions()
    for fmt in ("newsletter", "linkedin"):
        text = provider.draft(fmt, talk, talk_insights, options, voice=voice).value.text()
        assert "https://example.com/notes" in text and "Keep making, Ana" in text, fmt
        assert "dashboards" not in text.lower(), fmt
    linkedin = provider.draft("linkedin", talk, talk_insights, options, voice=voice).value.body
    assert linkedin.splitlines()[-1] == "#CreatorEconomy #Video"
    assert provider.draft("newsletter", talk, talk_insights, options, voice=voice).value.body.split("\n\n")[1] == (
        "Hey makers,"
    )


# --- Provider contract ----------------------------------------------------------------------


def test_provider_contract_and_provenance(provider, talk, talk_insights):
    assert isinstance(provider, ContentProvider)
    assert provider.capabilities == frozenset({INSIGHTS, DRAFTS, INSTRUCTIONS}) and JUDGE not in provider.capabilities
    insights = provider.insights(talk, JobOptions())
    assert insights.provenance.provider == "local" and insights.provenance.model == "extractive-v2"
    assert (insights.provenance.prompt_name, insights.provenance.prompt_version) == ("local_insights", "v3")
    assert insights.provenance.tokens_in == round(talk.word_count * 1.3)
    assert insights.provenance.tokens_out > 0 and insights.provenance.cost_usd == 0
    assert insights.provenance.latency_ms > 0
    draft = provider.draft("blog", talk, talk_insights, JobOptions(), prompt_version="v1")
    assert (draft.provenance.prompt_name, draft.provenance.prompt_version) == ("local_draft_blog", "v1")
    judged = provider.judge(draft.value, talk)
    assert judged.value == [] and judged.provenance.provider == "local"
