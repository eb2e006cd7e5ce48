"""One question to a language model, whatever the provider: the client interface every adapter
implements, and :func:`ask`, the one way the product asks.

An adapter (``pipeline/providers/gemini.py``, ``openai_compat.py``; the only modules that import
an SDK) implements one method, :meth:`LLMClient.complete`: a system text and the turns of the
conversation in, the raw :class:`~pipeline.structured.Answer` out, its own SDK errors turned into
:class:`~pipeline.errors.StepError` codes. Everything around the call is here, once:

- the shared rate limiter (:mod:`pipeline.ratelimit`): a slot and the estimated tokens are
  reserved before the call and settled after; a 429's Retry-After pauses every worker;
- the retry policy (:mod:`pipeline.retrying`): a transient failure (429, 5xx, timeout, network)
  is tried again within the call's budget before the step hears of it;
- validate-and-re-ask (:mod:`pipeline.structured`): an answer that does not fit its schema is
  asked again once, with the validation problems.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from pipeline import retrying
from pipeline.errors import ErrorCode, StepError
from pipeline.ratelimit import RateLimiter
from pipeline.structured import Answer, Reask, Structured, ask_structured

__all__ = ["Turn", "ModelParams", "LLMClient", "ask", "estimate_tokens", "CHARS_PER_TOKEN"]

M = TypeVar("M", bound=BaseModel)

#: The usual ratio of characters to tokens in English text, for estimates before a call.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Turn:
    """One turn of the conversation. ``attachments`` are the adapter's own parts (an uploaded
    audio file) that go before the text."""

    role: str  # "user" | "model"
    text: str
    attachments: tuple[Any, ...] = ()


@dataclass(frozen=True)
class ModelParams:
    """Model parameters from the prompt file; an adapter may let its settings override them."""

    temperature: float | None = None
    max_output_tokens: int | None = None
    thinking_budget: int | None = None

    @classmethod
    def of(cls, params: dict) -> ModelParams:
        return cls(params.get("temperature"), params.get("max_output_tokens"), params.get("thinking_budget"))


@runtime_checkable
class LLMClient(Protocol):
    """A configured model behind one method. ``name`` is the provider in provenance
    (``gemini``, ``openai``); ``limiter`` is the shared rate limiter of this model."""

    name: str
    model: str
    limiter: RateLimiter
    policy: retrying.CallPolicy

    def complete(self, system: str, turns: Sequence[Turn], schema: type[BaseModel], params: ModelParams) -> Answer:
        """One request. Raises StepError with the right code; a server-side failure that
        usually passes (503, 500) is a :class:`~pipeline.retrying.ServiceUnavailable`."""
        ...


def estimate_tokens(system: str, turns: Sequence[Turn]) -> int:
    """Input tokens of the text of a request, estimated before it is sent."""
    chars = len(system) + sum(len(turn.text) for turn in turns)
    return math.ceil(chars / CHARS_PER_TOKEN)


@dataclass
class _Call:
    client: LLMClient
    system: str
    schema: type[BaseModel]
    params: ModelParams
    extra_tokens: int = 0
    tries: list[int] = field(default_factory=list)  # requests sent per question (for tests and logs)

    def turns(self, user: Sequence[Turn], reask: Reask | None) -> list[Turn]:
        if reask is None:
            return list(user)
        return [*user, Turn("model", reask.answer.text), Turn("user", reask.feedback)]

    def once(self, turns: list[Turn]) -> Answer:
        limiter = self.client.limiter
        grant = limiter.acquire(estimate_tokens(self.system, turns) + self.extra_tokens)
        self.tries.append(1)
        try:
            answer = self.client.complete(self.system, turns, self.schema, self.params)
        except StepError as error:
            if error.code is ErrorCode.RATE_LIMITED and error.retry_after:
                limiter.pause(error.retry_after)  # every worker of this model waits as the service asked
            raise
        limiter.settle(grant, answer.tokens_in)
        return answer

    def with_retries(self, turns: list[Turn]) -> Answer:
        return retrying.call(
            lambda: self.once(turns),
            classify=_own_errors,
            policy=self.client.policy,
            what=f"{self.client.name} {self.schema.__name__}",
        )


def _own_errors(exc: BaseException) -> StepError | None:
    """Adapters raise StepErrors; anything else is a bug and goes up as it is."""
    return exc if isinstance(exc, StepError) else None


def ask(
    client: LLMClient,
    system: str,
    user: str | Sequence[Turn],
    schema: type[M],
    params: ModelParams,
    *,
    context: dict | None = None,
    extra_tokens: int = 0,
) -> Structured[M]:
    """Ask ``client`` for an answer of ``schema``: rate limited, transient failures retried in
    place, an invalid answer asked again once with what was wrong."""
    turns = [Turn("user", user)] if isinstance(user, str) else list(user)
    call = _Call(client, system, schema, params, extra_tokens)
    return ask_structured(lambda reask: call.with_retries(call.turns(turns, reask)), schema, context=context)
