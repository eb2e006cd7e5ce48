"""How QA reads a draft: its posts, its plain text without headings or numbering, what is in
quotes and what is outside them, its sentences in comparison form, phrases as patterns."""

from __future__ import annotations

import re

from pipeline import formats
from pipeline.models import Draft
from pipeline.text import CURLY, QUOTED_SPAN, normalize_text, sentences, strip_numbering

__all__ = [
    "HEADING",
    "QUOTED",
    "QUOTED_SPAN",
    "posts",
    "plain_text",
    "outside_quotes",
    "quoted_passages",
    "sentence_keys",
    "phrase_pattern",
    "words_of",
]

HEADING = re.compile(r"^(#{1,6})\s+\S")
QUOTED = re.compile(r'"([^"\n]+)"')
_LINE_MARKUP = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*\u2022\u2192]\s+|\d+[.)]\s+)")
#: Sentences shorter than this are too common to mean one draft repeats another.
SENTENCE_KEY_WORDS = 6


def posts(draft: Draft) -> list[str]:
    return formats.get(draft.format).posts_of(draft)


def plain_text(draft: Draft) -> str:
    """The words a reader reads: no headings, thread numbers or list and quote markers."""
    if draft.posts:
        return "\n".join(strip_numbering(p) for p in draft.posts)
    lines = [line for line in draft.body.splitlines() if not HEADING.match(line)]
    return "\n".join(_LINE_MARKUP.sub("", line) for line in lines)


def without_blockquotes(draft: Draft) -> Draft:
    return draft.model_copy(
        update={"body": "\n".join(line for line in draft.body.splitlines() if not line.lstrip().startswith(">"))}
    )


def outside_quotes(text: str) -> str:
    return QUOTED_SPAN.sub(" ", text)


def quoted_passages(text: str) -> list[str]:
    return QUOTED.findall(text.translate(CURLY))


def sentence_keys(draft: Draft, *, prose_only: bool = False) -> set[str]:
    """The draft's sentences in comparison form (long enough to mean something); with
    ``prose_only``, without quoted passages and blockquotes (sharing a speaker's best lines
    across platforms is what quotes are for)."""
    keys = set()
    for line in plain_text(draft).splitlines():
        if prose_only:
            line = outside_quotes(line)
        for sentence in sentences(line):
            key = normalize_text(sentence)
            if len(key.split()) >= SENTENCE_KEY_WORDS:
                keys.add(key)
    return keys


def phrase_pattern(phrase: str) -> re.Pattern:
    """Spaces and hyphens interchangeable, straight or curly apostrophes."""
    words = [re.escape(w).replace("'", "['\u2019]") for w in re.split(r"[\s-]+", phrase.strip())]
    return re.compile(r"\b" + r"[\s-]+".join(words) + r"\b", re.IGNORECASE)


def words_of(draft: Draft) -> int:
    return len(plain_text(draft).split())
