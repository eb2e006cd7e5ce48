"""Quote grounding: quotes ship only as the speaker's words, timed by the cues they come from."""

from __future__ import annotations

from pipeline.grounding import ground_quotes
from pipeline.models import InsightPack, Quote, Segment, Transcript
from pipeline.options import JobOptions

TALK = Transcript(
    segments=[
        Segment(start=0.0, end=4.0, text="Welcome back. Today is about batch recording,", speaker="HOST"),
        Segment(start=4.0, end=9.5, text="which means recording four videos in one morning.", speaker="HOST"),
        Segment(start=9.5, end=15.0, text="The trick is to plan every topic on Sunday evening.", speaker="HOST"),
        Segment(start=15.0, end=21.0, text="Don't check your analytics every day; check them weekly.", speaker="GUEST"),
    ]
)


def ground(*texts: str):
    pack = InsightPack(
        title="t", summary="s", themes=[], outline=[], quotes=[Quote(text=t, start=0, end=0) for t in texts]
    )
    return ground_quotes(pack, TALK)


def test_a_quote_across_two_cues_takes_the_first_start_and_the_last_end():
    pack, report = ground("Today is about batch recording, which means recording four videos in one morning.")
    [quote] = pack.quotes
    assert (quote.start, quote.end, quote.speaker) == (0.0, 9.5, "HOST")
    assert report.exact == 1 and not report.dropped


def test_typography_does_not_make_a_true_quote_false_and_the_speakers_wording_ships():
    pack, _ = ground("\u201cdon\u2019t CHECK your analytics every day \u2014 check them weekly\u201d")
    assert pack.quotes[0].text == "Don't check your analytics every day; check them weekly."
    assert pack.quotes[0].speaker == "GUEST"


def test_a_near_miss_is_repaired_and_an_invention_dropped():
    pack, report = ground("The trick is to plan each topic on Sunday evening.", "Consistency beats talent every time.")
    assert [q.text for q in pack.quotes] == ["The trick is to plan every topic on Sunday evening."]
    assert pack.quotes[0].start == 9.5
    assert report.repaired[0].ratio >= 0.9 and report.dropped == ["Consistency beats talent every time."]
    assert "1 repaired" in report.summary() and "1 dropped" in report.summary()


def test_short_quotes_must_match_exactly_and_repeats_are_dropped():
    pack, report = ground("batch recordings", "plan every topic", "Plan every topic!")
    assert [q.text for q in pack.quotes] == ["plan every topic"]
    assert report.dropped == ["batch recordings", "Plan every topic!"]


def test_a_paraphrase_is_not_a_near_miss():
    pack, report = ground("Plan all your topics on the Sunday before you record.")
    assert not pack.quotes and len(report.dropped) == 1


def test_a_quote_link_highlights_the_cue_the_quote_starts_in():
    """A quote at 0:45.5 is linked as the second it starts in; the cue that starts then is the one
    shown, not the 0:40 cue still being spoken at 0:45.0."""
    from pathlib import Path

    from pipeline import views
    from pipeline.providers.local import LocalContentProvider
    from pipeline.transcript import parse_transcript

    path = Path(__file__).resolve().parents[1] / "data" / "samples" / "creator-workflow-talk.srt"
    talk = parse_transcript(path.read_bytes(), path.name)
    pack = LocalContentProvider().insights(talk, JobOptions()).value
    for quote in pack.quotes:
        for linked in (quote.start, float(int(quote.start)), round(quote.start, 3)):
            cue = talk.segments[views.segment_at(talk, linked)]
            assert cue.start == quote.start and quote.text.split()[0] in cue.text, (linked, quote.text)
    assert views.segment_at(talk, 42.0) == next(i for i, s in enumerate(talk.segments) if s.start == 40.952)
