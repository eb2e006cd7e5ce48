"""SRT, VTT and plain text in; the same transcript out; odd files read, broken ones explained."""

from __future__ import annotations

import re

import pytest

from pipeline.transcript import Transcript, TranscriptFormatError, parse_transcript
from pipeline.transcription import captions_transcript
from tests.conftest import SAMPLES


def _texts(transcript: Transcript) -> list[str]:
    return [s.text for s in transcript.segments]


def test_bom_and_crlf():
    data = (
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\nHello there\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nWorld\r\n"
    )
    transcript = parse_transcript(data.encode("utf-8"), "talk.srt")
    assert _texts(transcript) == ["Hello there", "World"]
    assert (transcript.segments[0].start, transcript.segments[0].end) == (1.0, 2.5)


def test_srt_without_blank_lines_between_cues():
    data = "1\n00:00:01,000 --> 00:00:02,000\nFirst line\n2\n00:00:02,000 --> 00:00:03,000\nSecond line\n"
    assert _texts(parse_transcript(data, "talk.srt")) == ["First line", "Second line"]


def test_srt_without_cue_numbers_and_with_dots():
    data = "00:00:01.000 --> 00:00:02.000\nno number\n\n00:00:03,000 --> 00:00:04,000\nsecond\n"
    assert _texts(parse_transcript(data, "talk.srt")) == ["no number", "second"]


def test_styling_tags_and_overrides_are_removed():
    srt = '1\n00:00:01,000 --> 00:00:02,000\n{\\an8}<i>Hello</i> <font color="red">there</font> &amp; you\n'
    assert _texts(parse_transcript(srt, "talk.srt")) == ["Hello there & you"]
    vtt = (
        "WEBVTT\n\n00:01.000 --> 00:02.000\n<c.yellow>karaoke</c> <00:00:01.500><b>word</b> <ruby>x<rt>y</rt></ruby>\n"
    )
    assert _texts(parse_transcript(vtt, "talk.vtt")) == ["karaoke word xy"]


def test_vtt_cue_settings_notes_styles_regions_and_voices():
    data = (
        "WEBVTT - a talk\n\nSTYLE\n::cue { color: red }\n\nREGION\nid:left width:40%\n\nNOTE written by hand\n\n"
        "intro\n00:00:01.000 --> 00:00:02.000 align:start position:10% region:left\n<v Alice>Hello <b>there</b>\n\n"
        "00:03.000 --> 00:04.000\nGUEST: Thanks for having me\n"
    )
    transcript = parse_transcript(data, "talk.vtt")
    assert [(s.speaker, s.text) for s in transcript.segments] == [
        ("Alice", "Hello there"),
        ("GUEST", "Thanks for having me"),
    ]


def test_hours_above_99():
    srt = parse_transcript("1\n123:00:01,000 --> 123:00:02,500\nlate\n", "long.srt")
    vtt = parse_transcript("WEBVTT\n\n100:00:01.000 --> 100:00:02.000\nlate\n", "long.vtt")
    assert srt.segments[0].start == 123 * 3600 + 1
    assert vtt.segments[0].end == 100 * 3600 + 2


def test_vtt_without_header_and_srt_content_in_a_txt_file():
    vtt = parse_transcript("00:00:01.000 --> 00:00:02.000\nheaderless\n", "body.vtt")
    assert _texts(vtt) == ["headerless"]
    srt = parse_transcript("1\n00:00:01,000 --> 00:00:02,000\nin a txt\n", "captions.txt")
    assert _texts(srt) == ["in a txt"]


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        ("", "a.srt", "empty"),
        ("1\n00:00:xx,000 --> 00:00:02,000\nbad\n", "a.srt", r"SRT line 2: bad cue timing"),
        ("hello world\n1\n00:00:01,000 --> 00:00:02,000\ntext\n", "a.srt", r"SRT line 1: not a valid cue"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nnot a timing\nbroken\n",
            "a.srt",
            r"SRT cue 1: a block after it has no timing line",
        ),
        ("1\n00:00:05,000 --> 00:00:02,000\nbackwards\n", "a.srt", "ends before it starts"),
        ("WEBVTT\n\n00:xx.000 --> 00:02.000\nbad\n", "a.vtt", r"VTT line 3: bad cue timing"),
        ("WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nbad arrow\n", "a.vtt", "no VTT cue timings"),
        ("1\n00:00:01,000 --> 00:00:99,000\nbad time\n", "a.srt", "SRT line 2: bad timestamp"),
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:71.000 --> 00:00:72.000\nx\n", "a.vtt", "VTT line 6"),
        ("WEBVTT\n\n00:00:03.000 --> 00:00:01.000\nbackwards\n", "a.vtt", "ends before it starts"),
        ("WEBVTT\n\n", "a.vtt", "no VTT cue"),
        ("1\n00:00:01,000 --> 00:00:02,000\n\n", "a.srt", "no caption text"),
        (b"\x00\x01\x02binary", "a.srt", "binary file"),
        (b"1\n00:00:01,000 --> 00:00:02,000\n\x81\x8d not text", "a.srt", "UTF-8, UTF-16 or Windows-1252"),
    ],
)
def test_malformed_files_give_a_clear_reason(data, name, reason):
    with pytest.raises(TranscriptFormatError, match=reason):
        parse_transcript(data, name)


def test_the_samples_parse_to_the_same_talk():
    srt = parse_transcript((SAMPLES / "creator-workflow-talk.srt").read_bytes(), "talk.srt")
    vtt = parse_transcript((SAMPLES / "creator-workflow-talk.vtt").read_bytes(), "talk.vtt")
    assert len(srt.segments) == len(vtt.segments) == 145
    assert _texts(srt) == _texts(vtt)
    assert [s.start for s in srt.segments] == [s.start for s in vtt.segments]


def test_export_and_parse_round_trip():
    original = parse_transcript((SAMPLES / "risky-interview.srt").read_bytes(), "interview.srt")
    for exported, name in ((original.to_srt(), "x.srt"), (original.to_vtt(), "x.vtt")):
        again = parse_transcript(exported, name)
        assert [(s.start, s.end, s.text, s.speaker) for s in again.segments] == [
            (s.start, s.end, s.text, s.speaker) for s in original.segments
        ]


def test_rolling_automatic_captions_keep_each_line_once(tmp_path):
    rolling = tmp_path / "auto.en.vtt"
    rolling.write_text(
        "WEBVTT\nKind: captions\nLanguage: en\n\n"
        "00:00:00.000 --> 00:00:02.000 align:start position:0%\n"
        "welcome<00:00:00.500><c> to</c><00:00:01.000><c> the show</c>\n\n"
        "00:00:02.000 --> 00:00:02.010 align:start position:0%\nwelcome to the show\n\n"
        "00:00:02.010 --> 00:00:04.000 align:start position:0%\n"
        "welcome to the show\ntoday<00:00:02.500><c> we talk</c>\n"
    )
    transcript = captions_transcript(rolling)
    assert transcript.source == "captions"
    assert _texts(transcript) == ["welcome to the show", "today we talk"]


SCRIPT_SRT = (
    "1\n00:00:01,000 --> 00:00:04,000\n&lt;script&gt;alert(1)&lt;/script&gt; Welcome back to the show\n\n"
    '2\n00:00:04,000 --> 00:00:08,000\n&lt;a href="https://evil.example"&gt;Click&lt;/a&gt; and &lt;img src=x '
    "onerror=alert(2)&gt; today we talk\n\n"
    "3\n00:00:08,000 --> 00:00:12,000\nFish &amp;amp; chips &lt;3 and a &lt; b\n"
)


def test_entities_are_decoded_before_tags_are_stripped():
    transcript = parse_transcript(SCRIPT_SRT, "talk.srt")
    assert _texts(transcript) == [
        "alert(1) Welcome back to the show",
        "Click and today we talk",
        "Fish &amp; chips <3 and a < b",  # one decoding pass: what was escaped twice stays inert text
    ]


def test_plain_text_transcripts_are_cleaned_the_same_way():
    transcript = parse_transcript("[0:01] &lt;b&gt;Hello&lt;/b&gt; <i>there</i>\n", "talk.txt")
    assert _texts(transcript) == ["Hello there"]


CAFE = "1\n00:00:01,000 --> 00:00:02,000\nCafé naïve — it’s “great”\n"


@pytest.mark.parametrize(
    ("data", "encoding", "note"),
    [
        (CAFE.encode("utf-8"), "utf-8", None),
        (CAFE.encode("utf-8-sig"), "utf-8", None),
        (CAFE.encode("utf-16"), "utf-16", "UTF-16 (the file starts with its byte-order mark)"),
        (CAFE.encode("utf-16-be"), "utf-16-be", "big-endian, recognised without a byte-order mark"),
        (CAFE.encode("utf-16-le"), "utf-16-le", "little-endian, recognised without a byte-order mark"),
        (CAFE.encode("utf-32"), "utf-32", "UTF-32"),
        (CAFE.encode("cp1252"), "windows-1252", "Read as Windows-1252 because the file is not valid UTF-8"),
    ],
)
def test_encodings_are_detected_and_what_was_assumed_is_said(data, encoding, note):
    transcript = parse_transcript(data, "talk.srt")
    assert _texts(transcript) == ["Café naïve — it’s “great”"]
    assert transcript.encoding == encoding
    assert transcript.encoding_note == note or note in transcript.encoding_note


def test_encoded_markup_reaches_no_transcript_draft_or_export():
    from pipeline import api
    from pipeline.runner import run_queued

    talk = SCRIPT_SRT + "\n" + (SAMPLES / "creator-workflow-talk.srt").read_text(encoding="utf-8")
    job_id = api.submit(transcript=talk, transcript_name="talk.srt").job_id
    run_queued()  # every step, in this process
    files = api.bundle_files_for(job_id)
    assert {"transcript.srt", "drafts/linkedin.txt", "drafts/blog.md"} <= set(files)
    markup = re.compile(r"<\s*/?\s*(script|a|img)\b|onerror=", re.IGNORECASE)
    assert [name for name, text in files.items() if markup.search(text)] == []
    assert "alert(1) Welcome back to the show" in files["transcript.txt"]
