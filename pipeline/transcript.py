"""Transcripts: segments with times, parsed from SRT, VTT or plain text and exported back."""

from __future__ import annotations

import html
import re

from pydantic import BaseModel, Field

from pipeline import defaults
from pipeline.encodings import decode_bytes
from pipeline.encodings import describe as describe_encoding
from pipeline.errors import InvalidInput

__all__ = ["Segment", "Transcript", "parse_transcript", "check_size", "clean_text", "TranscriptFormatError", "SUFFIXES"]


class TranscriptFormatError(InvalidInput):
    pass


class Segment(BaseModel):
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str
    speaker: str | None = None


class Transcript(BaseModel):
    segments: list[Segment]
    language: str = "en"
    source: str = "provided"  # provided | captions | asr
    #: Mean recognition confidence (0..1) when a recognizer made the transcript.
    confidence: float | None = None
    #: The encoding a provided file was read in (None: it came as text).
    encoding: str | None = None

    @property
    def encoding_note(self) -> str | None:
        """What the creator should know about how their file was read."""
        return describe_encoding(self.encoding)

    @property
    def duration(self) -> float:
        return max((s.end for s in self.segments), default=0.0)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    @property
    def word_count(self) -> int:
        return sum(len(s.text.split()) for s in self.segments)

    def to_srt(self) -> str:
        blocks = []
        for i, seg in enumerate(self.segments, 1):
            times = f"{_clock(seg.start, ',')} --> {_clock(seg.end, ',')}"
            blocks.append(f"{i}\n{times}\n{_with_speaker(seg)}\n")
        return "\n".join(blocks)

    def to_vtt(self) -> str:
        blocks = ["WEBVTT\n"]
        for seg in self.segments:
            times = f"{_clock(seg.start, '.')} --> {_clock(seg.end, '.')}"
            blocks.append(f"{times}\n{_with_speaker(seg)}\n")
        return "\n".join(blocks)

    def to_txt(self) -> str:
        return "\n".join(f"[{timestamp(s.start)}] {_with_speaker(s)}" for s in self.segments) + "\n"


def _with_speaker(seg: Segment) -> str:
    return f"{seg.speaker}: {seg.text}" if seg.speaker else seg.text


def _clock(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def timestamp(seconds: float) -> str:
    """Human timestamp: ``4:05`` or ``1:02:03``."""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


# --- Parsing -------------------------------------------------------------------------------
#
# SRT goes through the ``srt`` library and WebVTT through ``webvtt-py``; this module adds what
# they leave to the caller: a size cap, decoding (BOMs, UTF-16, Windows-1252, CRLF, binary
# files), markup removal (entities, styling tags, ASS overrides), speaker labels, and one error
# type with a reason a person can act on.
#
# Every pattern here runs in linear time on any input: tag bodies exclude ``<``/``>`` and
# every repetition that could backtrack is possessive (``*+``, ``++``), so a cue of a million
# ``<a`` costs one pass, not a million (the fuzz test in tests/test_transcript_fuzz.py holds
# every format to that).

#: Markup inside a cue: HTML-like and WebVTT tags (``<i>``, ``</font>``, ``<c.yellow>``,
#: ``<00:00:01.500>``, ``<!-- -->``) and ASS override blocks (``{\an8}``).
_TAG = re.compile(r"<(?:[/?]?[A-Za-z0-9.:]|!)[^<>]*+>|\{\\[^{}]*+\}")
#: What is left of a tag that was never closed: its opening ``<`` is dropped so no renderer
#: can read the rest as markup. A match starts only at the first ``<`` of a run (the
#: lookbehind): without it a run of ``<`` was rescanned from each of its characters.
_TAG_OPENER = re.compile(r"(?<!<)<++(?=[A-Za-z/!?])")
_SPACE = re.compile(r"\s++")
_SPEAKER = re.compile(r"^(?:>>\s*+)?([A-Z][A-Z0-9 .'-]{1,30}+):\s")
#: A cue timing line, per format: (start, end) each as (hours, minutes, seconds, fraction).
_STAMP = {"SRT": r"(?:(\d++):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})", "VTT": r"(?:(\d++):)?(\d{2}):(\d{2})\.(\d{3})"}
_TIMING = {kind: re.compile(rf"^\s*+{stamp}\s*+-->\s*+{stamp}(?:\s.*)?$") for kind, stamp in _STAMP.items()}
_EXAMPLE = {"SRT": "00:00:01,000 --> 00:00:04,000", "VTT": "00:00:01.000 --> 00:00:04.000"}
_WORDS_PER_SECOND = 2.5


def parse_transcript(
    data: bytes | str, filename: str = "transcript.txt", *, max_bytes: int = defaults.MAX_TRANSCRIPT_BYTES
) -> Transcript:
    """Parse an uploaded transcript; raise :class:`TranscriptFormatError` with a clear reason.

    Linear in the size of ``data``, which may be at most ``max_bytes``."""
    check_size(data, max_bytes)
    text, encoding = _decode(data)
    if not text.strip():
        raise TranscriptFormatError("the transcript is empty")
    if (lines := text.count("\n") + 1) > defaults.MAX_TRANSCRIPT_LINES:
        raise TranscriptFormatError(
            f"the file has {lines:,} lines; a transcript of a 10-hour talk has about 25,000 (the limit "
            f"is {defaults.MAX_TRANSCRIPT_LINES:,}). Is this a transcript?"
        )
    kind = _kind(text, filename)
    try:
        segments = _PARSERS[kind](text)
    except TranscriptFormatError:
        raise
    except Exception as exc:  # a parser library failing in a way it does not document
        raise TranscriptFormatError(f"the {kind.upper()} file could not be read ({exc})") from None
    if not segments:
        raise TranscriptFormatError(f"no caption text found in {filename}")
    return Transcript(segments=segments, source="provided", encoding=encoding)


def check_size(data: bytes | str | int, max_bytes: int = defaults.MAX_TRANSCRIPT_BYTES) -> None:
    """Refuse a transcript (its content, or its size in bytes) larger than the cap before
    anything reads it."""
    size = data if isinstance(data, int) else len(data if isinstance(data, bytes) else data.encode("utf-8", "replace"))
    if size > max_bytes:
        raise TranscriptFormatError(
            f"the transcript is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB "
            "(a transcript of a 10-hour talk is about 1 MB)"
        )


def _kind(text: str, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "txt"
    if suffix == "vtt" or text.lstrip().startswith("WEBVTT"):
        return "vtt"
    if suffix == "srt" or "-->" in text:
        return "srt"
    return "txt"


def _decode(data: bytes | str) -> tuple[str, str | None]:
    """The text and the encoding it was read in (None: it came as text)."""
    try:
        text, encoding = (data, None) if isinstance(data, str) else decode_bytes(data)
    except InvalidInput as exc:
        raise TranscriptFormatError(str(exc)) from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if _control_ratio(text) > 0.01:
        raise TranscriptFormatError("this looks like a binary file, not a transcript (SRT, VTT or text)")
    return text, encoding


def _control_ratio(text: str) -> float:
    sample = text[:8192]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\t")
    return bad / max(len(sample), 1)


def _parse_srt(text: str) -> list[Segment]:
    import srt

    _check_timings(text, "SRT")
    try:
        cues = list(srt.parse(text))
    except srt.SRTParseError as exc:
        line = text.count("\n", 0, exc.expected_start) + 1
        snippet = exc.unmatched_content.strip().splitlines()[:2]
        raise TranscriptFormatError(
            f"SRT line {line}: not a valid cue ({' / '.join(snippet)!r}); expected a "
            "number, a line like 00:00:01,000 --> 00:00:04,000, then the text"
        ) from None
    for cue in cues:
        _check_srt_block(cue)
    return _segments(
        ("SRT", cue.index, cue.start.total_seconds(), cue.end.total_seconds(), cue.content, None) for cue in cues
    )


def _check_srt_block(cue) -> None:
    """``srt`` reads a block with no timing line as more text of the cue before it; say so instead."""
    body, _, stray = cue.content.partition("\n\n")
    if stray.strip():
        lines = " / ".join(stray.strip().splitlines()[:2])
        raise TranscriptFormatError(
            f"SRT cue {cue.index}: a block after it has no timing line ({lines!r}); each "
            "cue needs a line like 00:00:01,000 --> 00:00:04,000"
        )


def _parse_vtt(text: str) -> list[Segment]:
    import webvtt
    from webvtt.errors import MalformedFileError

    if not text.lstrip().startswith("WEBVTT"):
        text = "WEBVTT\n\n" + text  # a pasted body without its header is still clearly VTT
    _check_timings(text, "VTT")
    try:
        captions = webvtt.from_string(text)
    except MalformedFileError as exc:
        raise TranscriptFormatError(f"the VTT file is malformed ({exc})") from None
    return _segments(
        ("VTT", number, c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, c.raw_text, c.voice)
        for number, c in enumerate(captions, 1)
    )


def _check_timings(text: str, kind: str) -> None:
    """Every timing line readable, minutes and seconds below 60. (webvtt-py skips cues it cannot
    read and ``srt`` takes any number of seconds; a creator should hear about both.)"""
    lines = [(number, line) for number, line in enumerate(text.split("\n"), 1) if "-->" in line]
    if not lines:
        raise TranscriptFormatError(f"no {kind} cue timings found (expected lines like {_EXAMPLE[kind]})")
    for number, line in lines:
        match = _TIMING[kind].match(line)
        if match is None:
            raise TranscriptFormatError(
                f"{kind} line {number}: bad cue timing {line.strip()[:60]!r}; expected {_EXAMPLE[kind]}"
            )
        if any(int(value) > 59 for value in match.group(2, 3, 6, 7)):
            raise TranscriptFormatError(
                f"{kind} line {number}: bad timestamp {line.strip()[:60]!r} (minutes and seconds must be below 60)"
            )


def _segments(cues) -> list[Segment]:
    segments = []
    for kind, number, start, end, body, voice in cues:
        if end < start:
            raise TranscriptFormatError(f"{kind} cue {number}: it ends before it starts")
        segment = _segment(start, end, body, voice)
        if segment is not None:
            segments.append(segment)
    return segments


def _segment(start: float, end: float, body: str, voice: str | None) -> Segment | None:
    text = clean_text(body)
    speaker = voice.strip() if voice else None
    label = _SPEAKER.match(text)
    if label and speaker is None:
        speaker, text = label.group(1).strip(), text[label.end() :].strip()
    if not text:
        return None
    return Segment(start=round(start, 3), end=round(end, 3), text=text, speaker=speaker)


def clean_text(raw: str) -> str:
    """Caption text as plain words: entities decoded FIRST, then tags removed, so an encoded
    ``&lt;script&gt;`` is stripped like a real one instead of surviving as literal markup."""
    text = _TAG.sub("", html.unescape(raw))
    return _SPACE.sub(" ", _TAG_OPENER.sub("", text)).strip()


_TXT_STAMP = re.compile(r"^\[?+((?:\d++:)?\d{1,2}:\d{2})\]?+\s++(.*)$")


def _parse_plain(text: str) -> list[Segment]:
    """Plain text: one segment per line or sentence; ``[m:ss]`` prefixes give times, else
    times are estimated from a speaking rate so quotes still get a position."""
    segments: list[Segment] = []
    clock = 0.0
    for raw in text.split("\n"):
        line = clean_text(raw)
        if not line:
            continue
        stamp = _TXT_STAMP.match(line)
        if stamp:
            clock = _clock_to_seconds(stamp.group(1))
            line = stamp.group(2).strip()
        sentences = _sentences(line)
        if len(segments) + len(sentences) > defaults.MAX_TRANSCRIPT_SEGMENTS:
            raise TranscriptFormatError(
                f"the text has more than {defaults.MAX_TRANSCRIPT_SEGMENTS:,} lines or sentences; a "
                "transcript of a 10-hour talk has about 10,000. Is this a transcript?"
            )
        for sentence in sentences:
            duration = max(1.0, len(sentence.split()) / _WORDS_PER_SECOND)
            segments.append(Segment(start=round(clock, 3), end=round(clock + duration, 3), text=sentence))
            clock += duration
    return segments


def _clock_to_seconds(value: str) -> float:
    parts = [int(p) for p in value.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s++(?=[A-Z0-9\"'])")


def _sentences(line: str) -> list[str]:
    pieces = _SENTENCE_END.split(line)
    return [p.strip() for p in pieces if p.strip()]


_PARSERS = {"srt": _parse_srt, "vtt": _parse_vtt, "txt": _parse_plain}
#: The file types a transcript may come as.
SUFFIXES = tuple(_PARSERS)
