"""Plain-text helpers that drafts, QA and the composers share: comparison form, sentences,
thread numbering, trimming at a sentence, links.

Nothing here knows a draft format; these are the words-and-punctuation rules every format
follows the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "normalize_text",
    "sentences",
    "strip_numbering",
    "number_posts",
    "numbering_width",
    "trim_at_sentence",
    "split_to_fit",
    "QUOTED_SPAN",
    "shorten",
    "find_links",
    "find_profanity",
    "CURLY",
]

CURLY = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u2018": "'", "\u2019": "'"})
_NUMBERING = re.compile(r"^\s*\d+\s*/\s*\d+[.:)]?\s+")
# A sentence ends at . ! ? followed by a space or the end; a dot between digits ("3.11") or
# inside a web address does not end one.
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=[^\s.!?\"'\u201d\u2019)]))+(?:[.!?]+[\"'\u201d\u2019)]*|$)\s*")
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)]*(?=\s|$)")
#: A quotation on one line: "..." or “...”.
QUOTED_SPAN = re.compile(r'["\u201c][^"\u201c\u201d\n]*["\u201d]')
#: A web address as people write it: with a scheme, with www., or a bare domain with a path
#: ("example.com/offer"). The trailing punctuation of a sentence is not part of it.
_LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]]+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|co|dev|app|ai|ly|me|tv|info|biz|xyz|shop|link|click|example)"
    r"(?:/[^\s<>\"'()\[\]]*)?",
    re.IGNORECASE,
)


def normalize_text(text: str) -> str:
    """Lower case, straight quotes, punctuation as spaces, single spaces: the form in which a
    quote and the transcript are compared, so typography never makes a true quote look false."""
    text = text.translate(CURLY).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` as written (with their end punctuation and trailing space)."""
    return [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def strip_numbering(post: str) -> str:
    """A thread post without its ``3/9`` number."""
    return _NUMBERING.sub("", post, count=1).strip()


def number_posts(texts: Sequence[str]) -> list[str]:
    """``1/N text`` for every post, numbering from scratch."""
    total = len(texts)
    return [f"{i}/{total} {text}" for i, text in enumerate(texts, 1)]


def numbering_width(most_posts: int) -> int:
    """Characters the ``N/N `` number of a post takes in a thread of up to ``most_posts``."""
    return 2 * len(str(most_posts)) + 2


def trim_at_sentence(text: str, limit: int) -> str:
    """The longest prefix of whole sentences within ``limit`` characters; when not even one
    sentence fits, the longest prefix of whole words with an ellipsis."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= limit]
    if ends:
        return text[: ends[-1]].rstrip()
    cut = text[: max(limit - 1, 0)].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut + "\u2026"


def _split_points(text: str) -> list[int]:
    """Where a text may be cut: after a sentence, else after a word, never inside a quote."""
    quoted = [m.span() for m in QUOTED_SPAN.finditer(text)]
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    word_ends = [m.start() for m in re.finditer(r" ", text)]
    for points in (sentence_ends, word_ends):
        outside = [p for p in points if 0 < p < len(text) and not any(a < p < b for a, b in quoted)]
        if outside:
            return outside
    return word_ends


def split_to_fit(text: str, budget: int) -> list[str]:
    """``text`` cut into pieces of at most ``budget`` characters, as evenly as the allowed cut
    points permit (two pieces whenever two are enough): a post too long for its platform
    becomes posts that fit."""
    if len(text) <= budget:
        return [text]
    fitting = [p for p in _split_points(text) if p <= budget] or [budget]
    balanced = [p for p in fitting if len(text) - p <= budget]
    cut = min(balanced, key=lambda p: abs(p - len(text) / 2)) if balanced else max(fitting)
    return [text[:cut].strip(), *split_to_fit(text[cut:].strip(), budget)]


def shorten(text: str, size: int = 80) -> str:
    """One line of at most ``size`` characters, for reasons and log lines."""
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1].rstrip() + "\u2026"


def find_links(text: str) -> list[str]:
    """Every web address in ``text``, as written, without trailing punctuation."""
    return [m.group(0).rstrip(".,;:!?") for m in _LINK.finditer(text)]


_PROFANITY = re.compile(
    r"\b(?:(?:mother)?fuck\w*|shit\w*|bullshit\w*|bitch\w*|asshole\w*|bastard\w*|cunt\w*|dickhead\w*|wank\w*|twat\w*"
    r"|damn\w*|goddamn\w*|crap|crappy|piss\w*)\b",
    re.IGNORECASE,
)


def find_profanity(text: str) -> list[str]:
    return [m.group(0) for m in _PROFANITY.finditer(text)]
