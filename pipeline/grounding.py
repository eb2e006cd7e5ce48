"""Quote grounding: every quote of an insight pack is the speaker's words, with their time.

A quote is looked up in the transcript in the form QA compares text in (case, punctuation,
curly quotes and spacing do not matter). Found, it takes the transcript's own wording, the start
of the cue it starts in and the end of the cue it ends in. Not found but close to a passage (a changed word, a dropped
"the"), it is repaired to the transcript's own words. Otherwise it is dropped: a quote that
nobody said never ships.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from difflib import SequenceMatcher

from pydantic import BaseModel, Field

from pipeline.models import InsightPack, Quote, Transcript
from pipeline.text import normalize_text

__all__ = ["ground_quotes", "GroundingReport", "Repair", "REPAIR_RATIO", "MIN_REPAIR_WORDS"]

#: How alike (difflib ratio over normalised text) a quote and a transcript passage must be for
#: the quote to be repaired to the passage rather than dropped.
REPAIR_RATIO = 0.9
#: Quotes shorter than this are only kept when they match exactly: a short phrase close to
#: some passage says little about what the speaker meant.
MIN_REPAIR_WORDS = 5
#: Passages tried around each place where the quote and the transcript share words.
_SLACK = 2
_ANCHORS = 3
_EDGE_PUNCTUATION = "\"'\u201c\u201d\u2018\u2019,;:-\u2013\u2014([{"


class Repair(BaseModel):
    before: str
    after: str
    ratio: float


class GroundingReport(BaseModel):
    exact: int = 0
    repaired: list[Repair] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        total = self.exact + len(self.repaired) + len(self.dropped)
        return (
            f"quotes checked against the transcript: {total}; {self.exact} found word for word, "
            f"{len(self.repaired)} repaired to the transcript's words, {len(self.dropped)} dropped"
        )


@dataclass(frozen=True)
class _Span:
    first: int  # word index, inclusive
    last: int  # word index, exclusive


class _Index:
    """The transcript as normalised words, each tied to the raw token and cue it came from."""

    def __init__(self, transcript: Transcript):
        self.segments = transcript.segments
        self.tokens: list[tuple[str, int]] = []  # (raw token, segment index)
        self.words: list[str] = []
        self.token_of: list[int] = []
        for seg_index, segment in enumerate(transcript.segments):
            for raw in segment.text.split():
                self.tokens.append((raw, seg_index))
                for word in normalize_text(raw).split():
                    self.words.append(word)
                    self.token_of.append(len(self.tokens) - 1)
        self.joined = " " + " ".join(self.words) + " "
        self.offsets = _offsets(self.words)

    def find_exact(self, words: list[str]) -> _Span | None:
        position = self.joined.find(" " + " ".join(words) + " ")
        if position < 0:
            return None
        first = bisect.bisect_left(self.offsets, position + 1)
        return _Span(first, first + len(words))

    def text_of(self, span: _Span) -> str:
        first, last = self.token_of[span.first], self.token_of[span.last - 1]
        text = " ".join(raw for raw, _ in self.tokens[first : last + 1])
        return text.strip(_EDGE_PUNCTUATION)

    def times_of(self, span: _Span) -> tuple[float, float, str | None]:
        first = self.segments[self.tokens[self.token_of[span.first]][1]]
        last = self.segments[self.tokens[self.token_of[span.last - 1]][1]]
        return first.start, last.end, first.speaker


def _offsets(words: list[str]) -> list[int]:
    offsets, position = [], 1
    for word in words:
        offsets.append(position)
        position += len(word) + 1
    return offsets


def _closest(index: _Index, words: list[str]) -> tuple[float, _Span | None]:
    """The passage most like ``words``, searched around the longest runs of shared words."""
    matcher = SequenceMatcher(None, index.words, words, autojunk=False)
    blocks = sorted((b for b in matcher.get_matching_blocks() if b.size), key=lambda b: -b.size)[:_ANCHORS]
    wanted = " ".join(words)
    best: tuple[float, _Span | None] = (0.0, None)
    for block in blocks:
        aligned = block.a - block.b
        for first in range(max(aligned - _SLACK, 0), aligned + _SLACK + 1):
            for size in range(max(len(words) - _SLACK, 1), len(words) + _SLACK + 1):
                span = _Span(first, min(first + size, len(index.words)))
                ratio = SequenceMatcher(None, " ".join(index.words[span.first : span.last]), wanted).ratio()
                if ratio > best[0]:
                    best = (ratio, span)
    return best


def _locate(index: _Index, words: list[str], text: str) -> tuple[_Span | None, Repair | None]:
    """Where the quote is: an exact span, a repaired span (with the repair), or nowhere."""
    span = index.find_exact(words)
    if span is not None or len(words) < MIN_REPAIR_WORDS:
        return span, None
    ratio, span = _closest(index, words)
    if span is None or ratio < REPAIR_RATIO:
        return None, None
    return span, Repair(before=text, after=index.text_of(span), ratio=round(ratio, 3))


def ground_quotes(pack: InsightPack, transcript: Transcript) -> tuple[InsightPack, GroundingReport]:
    """The pack with every quote found (and timed) in the transcript, repaired, or dropped;
    a quote that lands on a passage already quoted is dropped as a repeat."""
    index, report = _Index(transcript), GroundingReport()
    kept: list[Quote] = []
    seen: set[tuple[int, int]] = set()
    for quote in pack.quotes:
        words = normalize_text(quote.text).split()
        span, repair = _locate(index, words, quote.text) if words else (None, None)
        if span is None or (span.first, span.last) in seen:
            report.dropped.append(quote.text)
            continue
        seen.add((span.first, span.last))
        if repair is None:
            report.exact += 1
        else:
            report.repaired.append(repair)
        start, end, speaker = index.times_of(span)
        text = repair.after if repair else index.text_of(span)  # the speaker's own casing and punctuation
        kept.append(
            quote.model_copy(update={"text": text, "start": start, "end": end, "speaker": quote.speaker or speaker})
        )
    return pack.model_copy(update={"quotes": kept}), report
