"""Structured answers from a language model, whatever the provider.

The answer is declared as a pydantic model. What comes back is validated against it; an invalid
answer is asked again once, with the validation error; a second invalid answer fails the step
with GENERATION_FAILED and a message that carries (the start of) the last answer, so that a
person can see what the model said.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from pipeline.errors import ErrorCode, StepError

__all__ = ["Answer", "Reask", "Structured", "InvalidAnswer", "parse_answer", "ask_structured", "shorten"]

M = TypeVar("M", bound=BaseModel)

#: Times an invalid answer is asked again before the step fails.
REASKS = 1
#: Characters of the last answer kept in a failure message.
ANSWER_IN_MESSAGE = 600
#: Validation problems listed in a re-ask; the first few are enough to correct the answer.
PROBLEMS_LISTED = 8

REASK_TEMPLATE = (
    "Your previous answer could not be used: {problems}\n"
    "Answer again with only the JSON object that matches the response schema, corrected."
)


@dataclass(frozen=True)
class Answer:
    """One raw answer: its text and what it cost."""

    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    truncated: bool = False  # the model hit its output limit mid-answer


@dataclass(frozen=True)
class Reask:
    """What a second question needs: the answer that failed and the feedback to send."""

    answer: Answer
    feedback: str


@dataclass(frozen=True)
class Structured(Generic[M]):
    value: M
    answers: tuple[Answer, ...]
    problems: tuple[str, ...] = ()  # why each answer before the last was asked again

    @property
    def reasked(self) -> bool:
        return len(self.answers) > 1

    @property
    def tokens_in(self) -> int:
        return sum(a.tokens_in for a in self.answers)

    @property
    def tokens_out(self) -> int:
        return sum(a.tokens_out for a in self.answers)

    @property
    def latency_ms(self) -> float:
        return sum(a.latency_ms for a in self.answers)

    @property
    def cost_usd(self) -> float:
        return sum(a.cost_usd for a in self.answers)


class InvalidAnswer(ValueError):
    """The answer does not fit the response model; the message says why, for the model."""


_FENCED_JSON = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def _unwrap(text: str) -> str:
    """Models sometimes wrap JSON in a Markdown code fence even when asked for JSON only."""
    match = _FENCED_JSON.match(text)
    return match.group(1) if match else text


def _problems(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors()[:PROBLEMS_LISTED]:
        where = ".".join(str(part) for part in error["loc"]) or "the answer"
        lines.append(f"{where}: {error['msg']}")
    more = exc.error_count() - PROBLEMS_LISTED
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


def parse_answer(answer: Answer, model: type[M], context: dict[str, Any] | None = None) -> M:
    """Validate ``answer`` into ``model`` or raise :class:`InvalidAnswer` saying what is wrong."""
    if not answer.text.strip():
        raise InvalidAnswer(
            "it was cut off at the output limit before it began, so write less"
            if answer.truncated
            else "the answer was empty"
        )
    try:
        return model.model_validate_json(_unwrap(answer.text), context=context)
    except ValidationError as exc:
        problems = _problems(exc)
        if answer.truncated:
            problems = f"it was cut off at the output limit, so write less ({problems})"
        raise InvalidAnswer(problems) from None


def shorten(text: str, limit: int = ANSWER_IN_MESSAGE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def ask_structured(
    ask: Callable[[Reask | None], Answer],
    model: type[M],
    *,
    context: dict[str, Any] | None = None,
    reasks: int = REASKS,
) -> Structured[M]:
    """Call ``ask`` (None the first time, then a :class:`Reask`) until an answer validates.

    Raises StepError(GENERATION_FAILED) after ``reasks + 1`` invalid answers.
    """
    answers: list[Answer] = []
    problems: list[str] = []
    reask: Reask | None = None
    for _ in range(reasks + 1):
        answer = ask(reask)
        answers.append(answer)
        try:
            return Structured(parse_answer(answer, model, context), tuple(answers), tuple(problems))
        except InvalidAnswer as exc:
            problems.append(str(exc))
            reask = Reask(answer, REASK_TEMPLATE.format(problems=exc))
    raise StepError(
        ErrorCode.GENERATION_FAILED,
        f"the model's answer did not fit {model.__name__} after {len(answers)} tries ({problems[-1]}); "
        f"last answer: {shorten(answers[-1].text)!r}",
    )
