"""Transcripts: segments with times, parsed from SRT, VTT or plain text and exported back."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from pipeline.errors import InvalidInput

__all__ = ["Segment", "Transcript", "parse_transcript", "TranscriptFormatError"]


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
    source: str = "provided"

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

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_CUE_TIMES = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"</?[a-zA-Z0-9.]+[^>]*>|\{\\[^}]*\}")
_SPEAKER = re.compile(r"^(?:<v\s+([^>]+)>|(?:>>\s*)?([A-Z][A-Z0-9 .'-]{1,30}):\s)")
_WORDS_PER_SECOND = 2.5


def parse_transcript(data: bytes | str, filename: str = "transcript.txt") -> Transcript:
    """Parse an uploaded transcript; raise :class:`TranscriptFormatError` with a clear reason."""
    text = _decode(data)
    if not text.strip():
        raise TranscriptFormatError("the transcript is empty")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "txt"
    if suffix == "vtt" or text.lstrip().startswith("WEBVTT"):
        segments = _parse_cues(text, vtt=True)
    elif suffix == "srt" or _CUE_TIMES.search(text.split("\n", 3)[-1] if text else ""):
        segments = _parse_cues(text, vtt=False)
    else:
        segments = _parse_plain(text)
    if not segments:
        raise TranscriptFormatError(f"no caption text found in {filename}")
    return Transcript(segments=segments, source="provided")


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        text = data
    else:
        if b"\x00" in data[:4096]:
            raise TranscriptFormatError("this looks like a binary file, not a transcript (SRT, VTT or text)")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise TranscriptFormatError("the transcript is not UTF-8 text (SRT, VTT or plain text expected)") from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if _control_ratio(text) > 0.01:
        raise TranscriptFormatError("this looks like a binary file, not a transcript (SRT, VTT or text)")
    return text


def _control_ratio(text: str) -> float:
    sample = text[:8192]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\t")
    return bad / max(len(sample), 1)


def _seconds(groups: tuple[str | None, ...]) -> float:
    h, m, s, frac = groups
    if int(m) > 59 or int(s) > 59:
        raise ValueError("minutes and seconds must be below 60")
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def _parse_cues(text: str, *, vtt: bool) -> list[Segment]:
    segments: list[Segment] = []
    lines = text.split("\n")
    i = 0
    kind = "VTT" if vtt else "SRT"
    while i < len(lines):
        match = _CUE_TIMES.match(lines[i])
        if not match:
            i += 1
            continue
        try:
            start, end = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
        except ValueError as exc:
            raise TranscriptFormatError(f"{kind} line {i + 1}: bad timestamp ({exc})") from None
        if end < start:
            raise TranscriptFormatError(f"{kind} line {i + 1}: the cue ends before it starts")
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() and not _CUE_TIMES.match(lines[i]):
            body.append(lines[i])
            i += 1
        if body and not vtt and body[-1].strip().isdigit() and i < len(lines) and _CUE_TIMES.match(lines[i]):
            body.pop()  # a cue number without the blank line before it
        segment = _segment(start, end, body)
        if segment:
            segments.append(segment)
    if not segments and _looks_like_cues(text):
        raise TranscriptFormatError(f"the {kind} file has no readable cues")
    if not segments:
        raise TranscriptFormatError(f"no {kind} cue timings found (expected lines like 00:00:01,000 --> 00:00:04,000)")
    return segments


def _looks_like_cues(text: str) -> bool:
    return "-->" in text


def _segment(start: float, end: float, body: list[str]) -> Segment | None:
    speaker = None
    first = body[0].strip() if body else ""
    match = _SPEAKER.match(first)
    if match:
        speaker = (match.group(1) or match.group(2)).strip()
    cleaned = " ".join(_TAG.sub("", line).strip() for line in body)
    if match and match.group(2):
        cleaned = cleaned[len(match.group(0)) :] if cleaned.startswith(match.group(0)) else cleaned
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        return None
    return Segment(start=start, end=end, text=cleaned, speaker=speaker)


_TXT_STAMP = re.compile(r"^\s*\[?((?:\d+:)?\d{1,2}:\d{2})\]?\s+(.*)$")


def _parse_plain(text: str) -> list[Segment]:
    """Plain text: one segment per line or sentence; ``[m:ss]`` prefixes give times, else
    times are estimated from a speaking rate so quotes still get a position."""
    segments: list[Segment] = []
    clock = 0.0
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        stamp = _TXT_STAMP.match(line)
        if stamp:
            clock = _clock_to_seconds(stamp.group(1))
            line = stamp.group(2).strip()
        for sentence in _sentences(line):
            duration = max(1.0, len(sentence.split()) / _WORDS_PER_SECOND)
            segments.append(Segment(start=round(clock, 3), end=round(clock + duration, 3), text=sentence))
            clock += duration
    return segments


def _clock_to_seconds(value: str) -> float:
    parts = [int(p) for p in value.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def _sentences(line: str) -> list[str]:
    pieces = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])", line)
    return [p.strip() for p in pieces if p.strip()]
