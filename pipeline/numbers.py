"""Numbers in any form: a number counts as said when the transcript says it in any way a person
would — ``3.11`` in "version 3.11", ``50`` as "fifty", ``50,000`` as "fifty thousand", ``20k``,
``1.5 million``, ``40%`` as "forty percent".

Every number is reduced to a canonical value (``"50000"``, ``"3.11"``, ``"0.5"``) and compared
as such. Timestamps (``4:05``), thread numbering (``3/9``) and list markers are not numbers a
reader takes as claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Claim", "canonical", "numbers_said", "claims_in", "unsourced_statistics", "SMALL_NUMBER"]

#: Bare whole numbers up to this are list counts ("3 ideas"), not claims worth verifying.
SMALL_NUMBER = 10

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_SUFFIX_SCALES = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000, "bn": 1_000_000_000}
_NUMBER_WORD = "|".join([*_UNITS, *_TENS, *_SCALES, "a", "and"])

_DIGITS = re.compile(
    r"(?P<currency>[$\u20ac\u00a3])?(?<![\w.])(?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s*(?P<scale>thousand|million|billion)\b|(?P<suffix>[kKmMbB]|bn)\b)?"
    r"\s*(?P<unit>%|percent\b|per\s*cent\b|x\b|times\b)?"
)
_SPELLED = re.compile(
    rf"\b(?:{'|'.join([*_UNITS, *_TENS])}|a\s+(?:hundred|thousand|million|billion))"
    rf"(?:[\s-]+(?:{_NUMBER_WORD})\b)*(?:\s+(?:percent|per\s*cent)\b)?",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?\b")
_NUMBERING = re.compile(r"(?m)^\s*\d+\s*/\s*\d+[.:)]?\s+")
_LIST_MARKER = re.compile(r"(?m)^\s*\d+[.)]\s")
_LINK = re.compile(r"https?://\S+|\]\([^)]*\)|\bwww\.\S+")


def canonical(value: float) -> str:
    """``50000``, ``3.11``, ``0.5``: one spelling per value."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _spelled_value(words: list[str]) -> int | None:
    """The value of spelled words ("fifty thousand", "two hundred and five", "twenty-one")."""
    total = current = 0
    seen = False
    for word in words:
        if word in ("a", "and"):
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _SCALES:
            scale = _SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


@dataclass(frozen=True)
class Claim:
    shown: str  # as written
    value: str  # canonical
    is_percentage: bool
    spelled: bool = False


def _digit_claims(text: str) -> list[Claim]:
    found = []
    for match in _DIGITS.finditer(text):
        value = float(match.group("digits").replace(",", ""))
        scale = match.group("scale") or (match.group("suffix") or "").lower()
        value *= _SCALES.get(scale, _SUFFIX_SCALES.get(scale, 1))
        unit = (match.group("unit") or "").lower().replace(" ", "")
        percentage = unit in ("%", "percent", "percent")
        found.append(Claim(match.group(0).strip(), canonical(value), percentage))
    return found


def _spelled_claims(text: str) -> list[Claim]:
    found = []
    for match in _SPELLED.finditer(text):
        words = re.split(r"[\s-]+", match.group(0).lower())
        percentage = words[-1] in ("percent", "cent")
        words = [w for w in words if w not in ("percent", "per", "cent")]
        while words and words[-1] in ("a", "and"):
            words.pop()
        value = _spelled_value(words)
        if value is not None:
            found.append(Claim(match.group(0).strip(), canonical(value), percentage, spelled=True))
    return found


def numbers_said(text: str) -> set[str]:
    """Every value ``text`` states, in digits or in words."""
    return {claim.value for claim in _digit_claims(text) + _spelled_claims(text)}


def _without_non_claims(text: str) -> str:
    return _LIST_MARKER.sub(" ", _NUMBERING.sub(" ", _CLOCK.sub(" ", _LINK.sub(" ", text))))


def claims_in(text: str) -> list[Claim]:
    """The numbers a reader of ``text`` would take as facts: not timestamps, thread numbering,
    list markers or links, and not small bare counts ("3 ideas", "five minutes")."""
    text = _without_non_claims(text)
    claims = []
    for claim in _digit_claims(text) + _spelled_claims(text):
        bare = not claim.is_percentage and not re.search(r"[$\u20ac\u00a3xX]|times|[kKmMbB]\b", claim.shown)
        small = bare and "." not in claim.value and float(claim.value) <= SMALL_NUMBER
        if not small:
            claims.append(claim)
    return claims


#: Words that show where a statistic comes from.
_SOURCE_MARKERS = re.compile(
    r"\b(?:according to|study|studies|survey|research|report|published|data from|analysis|census|source)\b",
    re.IGNORECASE,
)
#: Words a speaker uses about themselves (the percentage check, the judge's voice measure).
FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|my|me|we|we're|our|us)\b", re.IGNORECASE)


def unsourced_statistics(sentences: list[str]) -> set[str]:
    """Percentages the speaker states about the world with no source nearby. A speaker's own
    figures ('my click-through went from 1% to 4%') are their own source; '93% of readers never
    open a second email', with nothing said about where it comes from, is not."""
    found = set()
    for i, sentence in enumerate(sentences):
        nearby = " ".join(sentences[max(0, i - 2) : i + 3])
        for claim in claims_in(sentence):
            if claim.is_percentage and not FIRST_PERSON.search(sentence) and not _SOURCE_MARKERS.search(nearby):
                found.add(claim.value)
    return found
