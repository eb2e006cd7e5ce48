"""What the offline writer does with a creator's instruction for a regenerated draft.

The offline writer arranges the speaker's own lines; it cannot follow free text as a model
does. It recognises the common requests and acts on each one visibly:

- *shorter* ("shorter", "brief", "concise", "trim"...): the format's ``shorter`` composer
  parameters — fewer posts, items, lines;
- *more technical* ("technical", "details", "numbers", "data"...): lines that carry numbers and
  technical terms rank higher, so they are the ones chosen;
- *lead with the story* ("story", "anecdote", "personal"...): the talk's most story-like passage
  ("Two years ago I was...") comes first.

The rest of an instruction is not guessed at: the notes say what was followed and what needs an
LLM. The instruction is read as words only; nothing in it reaches a template or a pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a format is taken only as a parameter
    from pipeline.formats import FormatSpec

__all__ = ["Asks", "read_instruction", "technical_terms", "story_cues", "FOLLOWED"]

_SHORTER = re.compile(r"\b(?:short\w*|brief\w*|concise\w*|tight\w*|trim\w*|cut|fewer|condense\w*)\b", re.I)
_TECHNICAL = re.compile(
    r"\b(?:technical\w*|details?|detailed|numbers?|data|figures?|specific\w*|precise|metrics?|stats?|in-depth|deep\w*)\b",
    re.I,
)
_STORY = re.compile(r"\b(?:stor(?:y|ies)|anecdotes?|narrative|personal|journey|experience)\b", re.I)
#: Words that carry no request of their own ("make it a bit more ... please").
_FILLER = re.compile(
    r"\b(?:make|it|its|a|an|the|bit|little|lot|more|much|please|and|with|lead|start|open|begin|be|version|this|"
    r"draft|post|thread|less|way|very|too|so|of|on|in|to|me|my|us|our|than|now|again|add|give|use|include|focus|put|"
    r"first|up|front)\b",
    re.I,
)

#: What the offline writer follows, in the words the UI suggests.
FOLLOWED = ("shorter", "more technical", "lead with the story")

_TECHNICAL_TERM = re.compile(
    r"\d+(?:[.,:]\d+)*%?"  # numbers, times, percentages
    r"|\b[A-Z]{2,}s?\b"  # acronyms: API, CTA, SRT
    r"|\b\w+(?:[._/]\w+)+\b"  # identifiers and paths: object.__setattr__, click-through/ratio
    r"|\b[a-z]+[A-Z]\w*\b"  # camelCase
)
_STORY_CUE = re.compile(
    r"\b(?:\w+ (?:years?|months?|weeks?|days?) ago|back (?:then|when)|one day|last (?:year|month|week|summer|winter)"
    r"|when (?:I|we) (?:was|were|started|first)|I remember|remember when|(?:I|we) used to|the first time|at first"
    r"|(?:I|we) (?:was|were|had|started|decided|realized|realised|learned|tried|went|got|spent|quit|lost))\b",
    re.I,
)


def technical_terms(text: str) -> int:
    """How many numbers and technical terms a line carries."""
    return len(_TECHNICAL_TERM.findall(text))


def story_cues(text: str) -> int:
    """How much a line reads like a story being told: a time ("two years ago", "back then") and
    someone doing something in the past ("I was", "we started")."""
    return len(_STORY_CUE.findall(text))


@dataclass(frozen=True)
class Asks:
    """The requests an instruction holds that the offline writer follows, and what it does not."""

    shorter: bool = False
    technical: bool = False
    story: bool = False
    unread: str = ""  # the words no rule recognised

    @property
    def followed(self) -> list[str]:
        return [name for name, asked in zip(FOLLOWED, (self.shorter, self.technical, self.story), strict=True) if asked]

    def params(self, spec: FormatSpec) -> dict:
        """Composer parameters for these requests (merged over the prompt's own)."""
        params: dict = dict(spec.shorter) if self.shorter else {}
        if self.technical:
            params.update(prefer_technical=True, claim_first=list(spec.slots))
        if self.story:
            params["lead_with_story"] = True
        return params

    def notes(self) -> tuple[str, ...]:
        """What the step logs about the instruction."""
        notes = [f"followed the instruction: {', '.join(self.followed)}"] if self.followed else []
        if self.unread:
            notes.append(
                f"the offline writer cannot follow {self.unread!r}; it follows {', '.join(FOLLOWED)} "
                "(point ClipInsight at an LLM for any other instruction)"
            )
        return tuple(notes)


def read_instruction(instruction: str | None) -> Asks:
    text = " ".join((instruction or "").split())
    found = {"shorter": _SHORTER, "technical": _TECHNICAL, "story": _STORY}
    asks = {name: bool(pattern.search(text)) for name, pattern in found.items()}
    rest = text
    for pattern in (*found.values(), _FILLER):
        rest = pattern.sub(" ", rest)
    rest = " ".join(re.sub(r"[^\w\s'-]", " ", rest).split())
    return Asks(**asks, unread=rest if any(asks.values()) else text)
