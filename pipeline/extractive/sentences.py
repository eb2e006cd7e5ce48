"""Sentences of a talk and what makes one worth repeating.

Captions split sentences anywhere, so sentences are rebuilt from cues; each keeps the start of
the cue it starts in. Every sentence gets the measures the extractive provider ranks by:

- *punch*: what makes a line quotable on its own — a contrast ("not because they are easy, but
  because they are hard"), parallel wording ("the greater ..., the greater ..."), an absolute,
  advice to "you", an imperative, a number.
- *weakness*: a multiplier below 1 for lines that lean on what came before ("This is...",
  "Then..."), or trail off into speech habits ("you know", "kind of").
- *usable*: whether it can stand alone in a draft at all: long enough to say something, not a
  question, not a signpost of the talk's structure, and nothing untrusted in it (an
  instruction aimed at an AI, markup, a link): the provider never repeats those.

A long sentence may hold a quotable clause: :func:`clauses` gives its prefixes that end at a
clause boundary ("We choose to go to the Moon in this decade ..., but because they are hard").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from pipeline.transcript import Transcript
from pipeline.untrusted import fake_speaker, holds_untrusted
from pipeline.words import content_runs, stem, word_set

__all__ = [
    "Sentence",
    "Span",
    "rebuild_sentences",
    "sentence_limit",
    "punch",
    "weakness",
    "is_usable",
    "is_signpost",
    "tidy",
    "clauses",
    "TRANSITION",
    "PART_NAME",
    "TOPIC_NAME",
    "ORDINALS",
]

_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "vs", "e.g", "i.e", "approx"})


@dataclass
class Sentence:
    """A sentence of the talk, with the time of the cue it starts in and the one it ends in."""

    index: int
    text: str
    start: float
    end: float
    speaker: str | None
    words: int
    terms: Counter = field(default_factory=Counter)  # stems of content words
    phrases: Counter = field(default_factory=Counter)  # tuples of 1-3 stems

    @property
    def is_question(self) -> bool:
        return self.text.rstrip("\"'\u201d\u2019) ").endswith("?")


@dataclass(frozen=True)
class Span:
    """A quotable piece of a sentence: the whole sentence or a clause it starts with."""

    sentence: Sentence
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())


def _ends_with_abbreviation(text: str) -> bool:
    words = text.split()
    return bool(words) and words[-1].lower().rstrip(".") in _ABBREVIATIONS


def _pieces(text: str) -> list[tuple[str, bool]]:
    """A cue's text cut at sentence ends: (piece, whether the piece ends a sentence)."""
    pieces, begin = [], 0
    for match in _SENTENCE_END.finditer(text):
        if _ends_with_abbreviation(text[begin : match.end()]):
            continue
        pieces.append((text[begin : match.end()].strip(), True))
        begin = match.end()
    rest = text[begin:].strip()
    if rest:
        pieces.append((rest, False))
    return pieces


class _SentenceBuilder:
    """Collects cue text into sentences. A sentence may start in one cue and end in another;
    it keeps the start of the cue it starts in and the end of the cue it ends in."""

    def __init__(self, max_words: int):
        self.max_words = max_words
        self.sentences: list[Sentence] = []
        self._parts: list[str] = []
        self._start = self._end = 0.0
        self._speaker: str | None = None

    def add_cue(self, text: str, start: float, end: float, speaker: str | None) -> None:
        if self._parts and (speaker != self._speaker or self._word_count() >= self.max_words):
            self.close()  # a new speaker, or captions without punctuation running on
        for piece, ends_sentence in _pieces(text):
            if not self._parts:
                self._start, self._speaker = start, speaker
            self._parts.append(piece)
            self._end = end
            if ends_sentence:
                self.close()

    def close(self) -> None:
        if not self._parts:
            return
        text = " ".join(self._parts)
        sentence = Sentence(len(self.sentences), text, self._start, self._end, self._speaker, len(text.split()))
        self.sentences.append(sentence)
        self._parts = []

    def _word_count(self) -> int:
        return sum(len(p.split()) for p in self._parts)


def rebuild_sentences(transcript: Transcript, max_words: int = 90) -> list[Sentence]:
    """Whole sentences from the transcript's cues. A cue without a speaker label continues the
    last labelled speaker: captions name the speaker only when the turn starts."""
    builder = _SentenceBuilder(max_words)
    speaker = None
    for segment in transcript.segments:
        speaker = segment.speaker or speaker
        builder.add_cue(segment.text, segment.start, segment.end, speaker)
    builder.close()
    for sentence in builder.sentences:
        _index_words(sentence)
    return builder.sentences


def _index_words(sentence: Sentence) -> None:
    for run in content_runs(sentence.text):
        stems = tuple(stem(w) for w in run)
        sentence.terms.update(stems)
        for n in (1, 2, 3):
            sentence.phrases.update(stems[i : i + n] for i in range(len(stems) - n + 1))


def sentence_limit(transcript: Transcript, params: dict) -> int:
    """Most words a sentence may run to before it is cut at a cue boundary. Auto-captions often
    have no punctuation at all; there, sentences end at cues after about a quote's length, so
    that quotes and summaries still have units of a readable size."""
    sentence_ends = len(_SENTENCE_END.findall(transcript.text))
    if transcript.word_count / max(sentence_ends, 1) > params["max_sentence_words"]:
        return params["caption_sentence_words"]
    return params["max_sentence_words"]


# --- How a talk announces its structure ---------------------------------------------------

ORDINALS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|next|last|final"
_NUMBERS = r"one|two|three|four|five|six|seven|eight|nine|ten|\d+"
#: How speakers announce a new part ("Okay, the second part is...", "Segment three is...",
#: "That brings me to...", "Let me wrap up"): the strongest single sign of a topic shift.
TRANSITION = re.compile(
    r"^(?:(?:so|okay|ok|and|now|alright|all right|right|well)[,.]?\s+)*"
    rf"(?:(?:the\s+)?(?:{ORDINALS})\s+(?:part|segment|section|step|point|topic|chapter|thing)\b"
    rf"|(?:part|segment|section|step|chapter)\s+(?:{_NUMBERS})\b"
    r"|let's (?:move on|turn to|start with|talk about)|let me (?:wrap|start with|turn to|move on)|moving on"
    r"|(?:that|this) brings (?:me|us) to|to wrap (?:up|things up)|in summary|to sum up"
    r"|open (?:it|things|the floor) up for questions|(?:let's|let me) (?:do|take) (?:some|a few|your) questions)",
    re.IGNORECASE,
)
PART_NAME = re.compile(
    rf"(?:(?:{ORDINALS})\s+(?:part|segment|section|step|topic|chapter)|(?:part|segment|section|step|chapter)\s+(?:{_NUMBERS}))"
    r"(?:,?\s+which\s+(?:is|are)|\s+is|,|:)\s+(?P<name>[^.,;:!?]{3,60})",
    re.IGNORECASE,
)
TOPIC_NAME = re.compile(
    r"let's (?:move on to|turn to|start with|talk about)\s+(?P<name>[^.,;:!?]{3,60})", re.IGNORECASE
)
_SIGNPOST = re.compile(
    r"\b(?:we'll|we will|i'll|i will|i'm going to|we're going to|let me|i want to|i'd like to)\s+"
    r"(?:cover|walk you through|show you|talk about|look at|share)\b"
    r"|\b(?:thanks|thank you) (?:for having me|so much|everyone|all)\b|\bhi everyone\b|\bwelcome back\b"
    r"|\bshow of hands\b|\blet's get into it\b|\bsee you (?:next|in the next)\b"
    # Teasers that point at what comes next: out of context they promise and say nothing.
    r"|\blet me give you\b|\bhere'?s (?:the|a|an|my|what|how|where|why|one)\b[^.!?]{0,40}[.:]\s*$"
    r"|\bremember this\b|\b(?:this|that|it) is (?:where|how|why|what)\b|\bthe following\b"
    r"|\b(?:surprised|shocked) me\s*[.!]?\s*$|\bguess what\b|[:]\s*$",
    re.IGNORECASE,
)


def is_signpost(text: str) -> bool:
    """Sentences that announce the talk's structure or manage the room ('the second part is...',
    'we'll cover...', 'thanks for having me') say where the talk goes, not what it says."""
    return bool(TRANSITION.search(text) or PART_NAME.search(text) or _SIGNPOST.search(text))


# --- Qualities -----------------------------------------------------------------------------

_LEADING_FILLER = re.compile(
    r"^(?:(?:so|and|but|well|okay|ok|now|um+|uh+|yeah|anyway|oh|right|honestly|basically|like|you know)\b[,.]?\s+)+",
    re.IGNORECASE,
)
_CONTRAST = re.compile(
    r", not |; |\bnot\b[^.]*\bbut\b|n't\b[^.]*\bit's\b|\binstead of\b|\brather than\b|\bbeats\b|\bless like\b"
    r"|\b(?:isn't|is not) about\b|\bthe (?:more|greater|less|better)\b[^.]*,\s*the (?:more|greater|less|better)\b",
    re.IGNORECASE,
)
_ABSOLUTES = word_set(
    "never always every nobody everyone nothing everything best worst biggest secret only truth mistake all"
)
_IMPERATIVES = word_set(
    "plan mark track protect stop start write make keep pick ask focus treat remember measure adapt record find "
    "build try use don't never always give take cut say publish post read listen ship show tell skip avoid "
    "choose lead send"
)
_NARRATIVE_START = re.compile(
    r"^(?:on (?:mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?)|over the|then|later|meanwhile"
    r"|for a while|after that|next|finally|at the time|back then|yesterday|last (?:week|month|year))\b",
    re.IGNORECASE,
)
_ORDINAL_START = re.compile(rf"^(?:the\s+)?(?:{ORDINALS}|another)\b", re.IGNORECASE)
_SPOKEN_FILLER = re.compile(r"\b(?:um+|uh+|erm|you know|i mean|kind of|sort of)\b", re.IGNORECASE)
_DANGLING_START = word_set("this that it these those they he she which there its their his her")
#: Words too common for their repetition to mean a parallel structure.
_PLAIN_WORDS = word_set("a an the of to in and is it that i we you")


def _parallelism(words: list[str]) -> float:
    """Repeated word pairs inside one sentence ('because they ... because they', 'new ills
    ... new dangers'): the rhetoric people remember."""
    pairs = Counter(zip(words, words[1:], strict=False))
    repeats = sum(count - 1 for pair, count in pairs.items() if count > 1 and not set(pair) <= _PLAIN_WORDS)
    return min(0.45, 0.15 * repeats)


def punch(text: str) -> float:
    """How quotable a line is on its own, from 0 (a plain report) up."""
    words = re.findall(r"[a-z']+", text.lower())
    score = 0.4 if _CONTRAST.search(text) else 0.0
    score += min(0.3, 0.15 * sum(1 for w in words if w in _ABSOLUTES))
    score += 0.25 if {"you", "your"} & set(words) and "i" not in words else 0.0
    score += 0.25 if words and words[0] in _IMPERATIVES else 0.0
    score += _parallelism(words)
    return score + (0.1 if any(ch.isdigit() for ch in text) else 0.0)


#: "This week", "today": a line pinned to the moment it was said reads oddly anywhere else.
_DEICTIC = re.compile(
    r"\b(?:this|last|next)\s+(?:week|month|year|morning|time)\b|\b(?:today|yesterday|tomorrow)\b", re.I
)
#: Pronouns that point back to something said before.
_BACK_REFERENCE = re.compile(r"\b(?:it|this|that|them|they|those|these)\b", re.IGNORECASE)
#: A line this short with a pronoun in it usually points back ("Nobody complained about it.").
_SHORT_LINE_WORDS = 12


def weakness(text: str) -> float:
    """Multiplier below 1 for lines that lean on context or trail off into speech habits."""
    words = text.split()
    first_word = stem(words[0].lower().strip(",.'\"")) if words else ""
    factor = 0.6 if _SPOKEN_FILLER.search(text) or '"' in text else 1.0
    factor *= 0.6 if first_word in _DANGLING_START or _ORDINAL_START.match(text) else 1.0
    factor *= 0.7 if _NARRATIVE_START.match(text) else 1.0
    factor *= 0.8 if _DEICTIC.search(text) else 1.0
    factor *= 0.8 if len(words) <= _SHORT_LINE_WORDS and _BACK_REFERENCE.search(" ".join(words[1:])) else 1.0
    return factor * (0.8 if _LEADING_FILLER.match(text) else 1.0)


def is_usable(sentence: Sentence, min_words: int, max_words: int) -> bool:
    """Whether a sentence can stand alone in a draft or as a quote: long enough to say
    something, short enough to read, not a question or a signpost, and nothing untrusted in it."""
    # Swearing is the speaker's voice, left for QA and an editor to judge; an instruction aimed
    # at an AI, markup or a link is never the speaker's content, so the provider never repeats one.
    if not min_words <= sentence.words <= max_words or sentence.is_question or fake_speaker(sentence.speaker):
        return False
    return not (is_signpost(sentence.text) or holds_untrusted(sentence.text))


def tidy(text: str) -> str:
    """A transcript sentence without spoken lead-ins ('So, and ...'), for prose (quotes stay
    verbatim)."""
    tidied = _LEADING_FILLER.sub("", text).strip()
    return tidied[0].upper() + tidied[1:] if tidied else text


#: Where a clause may end inside a sentence: a comma, semicolon or dash before a word that
#: starts the next clause.
_CLAUSE_END = re.compile(r"[,;:]\s+|\s[-\u2013\u2014]+\s")


#: A clause that opens with one of these needs what follows it ("if it reaches Venus, ...").
_SUBORDINATE = word_set("if when whether although though unless while until since as that which who where whose")
_LINKS = word_set("and but or so now then yet")
#: A prefix's last clause needs this many words to stand on its own ("..., if you will" does not).
_MIN_LAST_CLAUSE_WORDS = 4


def _ends_whole(prefix: str) -> bool:
    """Whether a prefix of a sentence ends where its meaning is complete: its last clause is long
    enough and does not open a subordinate clause whose main clause is cut off."""
    last = _CLAUSE_END.split(prefix)[-1].lower().split()
    if len(last) < _MIN_LAST_CLAUSE_WORDS:
        return False
    opener = next((word for word in last if word not in _LINKS), "")
    return opener not in _SUBORDINATE


def clauses(sentence: Sentence, min_words: int, max_words: int) -> list[Span]:
    """The quotable spans of a sentence: the sentence itself when it fits, and every prefix that
    ends at a clause boundary, fits, and is complete (a long sentence's opening clauses are often
    the line people remember)."""
    spans = [Span(sentence, sentence.text)] if min_words <= sentence.words <= max_words else []
    if sentence.words <= min_words:
        return spans
    for match in _CLAUSE_END.finditer(sentence.text):
        prefix = sentence.text[: match.start()].rstrip(" ,;:")
        size = len(prefix.split())
        if min_words <= size <= max_words and size < sentence.words and _ends_whole(prefix):
            spans.append(Span(sentence, prefix))
    return spans
