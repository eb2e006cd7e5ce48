"""Any server that speaks OpenAI's chat-completions protocol: OpenAI itself, Ollama, llama.cpp's
server, vLLM, LM Studio. The only module that imports ``openai``.

:class:`OpenAIClient` implements :meth:`pipeline.providers.llm.LLMClient.complete`; everything else (prompts,
fences, re-asks, grounding, retries, rate limits) is :mod:`pipeline.providers.generation`'s. Structured
output is used where the server supports it: the answer's JSON schema goes as
``response_format={"type": "json_schema", ...}``; a server that refuses that is asked with
``{"type": "json_object"}``, and one that refuses both gets the schema in the system text.
Either way the answer is validated and asked again once when it does not fit. ``auto`` finds the
server's level on the first refusal and remembers it for the process.

Settings: ``CLIPINSIGHT_PROVIDER=openai``; ``OPENAI_BASE_URL`` (unset: api.openai.com; Ollama:
``http://localhost:11434/v1``; llama.cpp: ``http://localhost:8080/v1``), ``OPENAI_API_KEY``
(a local server needs none), ``OPENAI_MODEL``, ``OPENAI_TIMEOUT_S``, ``OPENAI_RPM`` / ``OPENAI_TPM``,
``OPENAI_STRUCTURED_OUTPUT`` (``auto``, ``json_schema``, ``json_object``, ``none``).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import openai
from pydantic import BaseModel

from pipeline import retrying
from pipeline.errors import ErrorCode, StepError
from pipeline.providers.generation import LLMContentProvider
from pipeline.providers.llm import ModelParams, Turn
from pipeline.ratelimit import Limits, limiter_for
from pipeline.settings import Settings
from pipeline.structured import Answer

__all__ = ["OpenAIClient", "OpenAIContentProvider", "map_error", "MISSING_KEY", "MODES", "price_of"]

MISSING_KEY = (
    "The OpenAI-compatible provider is selected but neither OPENAI_API_KEY nor OPENAI_BASE_URL is set. For OpenAI, "
    "export OPENAI_API_KEY=...; for a local server (Ollama, llama.cpp, vLLM, LM Studio) export "
    "OPENAI_BASE_URL=http://localhost:11434/v1 (no key needed) and OPENAI_MODEL=<the model it serves>."
)
#: How structured output is asked for, strictest first.
MODES = ("json_schema", "json_object", "none")
SCHEMA_INSTRUCTION = "\n\nAnswer with one JSON object, and nothing else, that matches this JSON schema:\n{schema}"


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float


#: Published prices of some OpenAI models; any other model (a local one) costs nothing here.
PRICES = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.00, 8.00),
}


def price_of(model: str) -> Price:
    known = [name for name in PRICES if model.startswith(name)]
    return PRICES[max(known, key=len)] if known else Price(0.0, 0.0)


class OpenAIClient:
    """One model on an OpenAI-compatible server, behind :meth:`complete`."""

    name = "openai"

    def __init__(self, settings: Settings, failure: ErrorCode = ErrorCode.GENERATION_FAILED):
        key = settings.openai_api_key or ("not-needed" if settings.openai_base_url else None)
        if not key:
            raise StepError(ErrorCode.API_KEY_INVALID, MISSING_KEY)
        if settings.openai_structured not in ("auto", *MODES):
            raise StepError(ErrorCode.INVALID_INPUT, f"OPENAI_STRUCTURED_OUTPUT must be auto or one of {MODES}")
        self.model = settings.openai_model
        self.failure = failure
        self.mode = "json_schema" if settings.openai_structured == "auto" else settings.openai_structured
        self.adaptive = settings.openai_structured == "auto"
        limits = Limits(
            requests=settings.openai_rpm, tokens=settings.openai_tpm, max_wait_s=settings.gemini_rate_wait_s
        )
        self.limiter = limiter_for(settings, f"openai:{self.model}", limits)
        self.policy = retrying.CallPolicy(initial_s=settings.call_retry_initial_s)
        # The SDK's own retries are off: the one retry policy (pipeline.retrying) decides.
        self.client = openai.OpenAI(
            api_key=key, base_url=settings.openai_base_url, timeout=settings.openai_timeout_s, max_retries=0
        )

    def complete(self, system: str, turns: Sequence[Turn], schema: type[BaseModel], params: ModelParams) -> Answer:
        started = time.perf_counter()
        while True:
            try:
                response = self.client.chat.completions.create(**self._request(system, turns, schema, params))
                break
            except openai.BadRequestError as exc:
                if not self._step_down(exc):
                    raise map_error(exc, self.failure) from exc
            except Exception as exc:
                mapped = map_error(exc, self.failure)
                if mapped is None:
                    raise
                raise mapped from exc
        return self._read(response, (time.perf_counter() - started) * 1000)

    def _request(self, system: str, turns: Sequence[Turn], schema: type[BaseModel], params: ModelParams) -> dict:
        instructions = "" if self.mode == "json_schema" else SCHEMA_INSTRUCTION.format(schema=_schema_text(schema))
        messages = [{"role": "system", "content": system + instructions}]
        messages += [{"role": "assistant" if t.role == "model" else "user", "content": t.text} for t in turns]
        request = {"model": self.model, "messages": messages}
        if self.mode == "json_schema":
            spec = {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False}
            request["response_format"] = {"type": "json_schema", "json_schema": spec}
        elif self.mode == "json_object":
            request["response_format"] = {"type": "json_object"}
        if params.temperature is not None:
            request["temperature"] = params.temperature
        if params.max_output_tokens:
            request["max_tokens"] = params.max_output_tokens
        return request

    def _step_down(self, exc: openai.BadRequestError) -> bool:
        """A server that refuses the way structured output was asked for is asked the next way
        (remembered for the process); True when there is a next way to try."""
        said = str(exc).lower()
        refused_format = "response_format" in said or "json_schema" in said or "json_object" in said
        if not (self.adaptive and refused_format and self.mode != MODES[-1]):
            return False
        self.mode = MODES[MODES.index(self.mode) + 1]
        return True

    def _read(self, response, latency_ms: float) -> Answer:
        if not response.choices:
            raise StepError(self.failure, "the model returned no answer")
        choice = response.choices[0]
        if choice.finish_reason == "content_filter":
            raise StepError(
                ErrorCode.CONTENT_POLICY_VIOLATION,
                "the model's content filter refused to answer. Review the transcript; the job can run with the "
                "local provider (CLIPINSIGHT_PROVIDER=local) if the content is fine.",
            )
        usage = response.usage
        tokens_in = getattr(usage, "prompt_tokens", 0) or 0
        tokens_out = getattr(usage, "completion_tokens", 0) or 0
        price = price_of(self.model)
        return Answer(
            text=choice.message.content or "",
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=round(latency_ms, 3),
            cost_usd=round((tokens_in * price.input + tokens_out * price.output) / 1_000_000, 6),
            truncated=choice.finish_reason == "length",
        )


def _schema_text(schema: type[BaseModel]) -> str:
    return json.dumps(schema.model_json_schema(), separators=(",", ":"))


def _retry_after(exc: openai.APIStatusError) -> float | None:
    headers = exc.response.headers if exc.response is not None else {}
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


def _status_error(exc: openai.APIStatusError, failure: ErrorCode) -> StepError:
    said = f"the model server answered {exc.status_code}: {exc.message}"
    code = exc.status_code
    if code == 429:
        return StepError(ErrorCode.RATE_LIMITED, f"{said} (rate limit or quota)", retry_after=_retry_after(exc))
    if code in (401, 403):
        return StepError(ErrorCode.API_KEY_INVALID, f"{said}. Check OPENAI_API_KEY (and OPENAI_BASE_URL).")
    if code == 404:
        return StepError(ErrorCode.INVALID_INPUT, f"{said}. Check OPENAI_MODEL and OPENAI_BASE_URL.")
    if code in (400, 413, 422):
        return StepError(ErrorCode.INVALID_INPUT, said)
    if code == 504:
        return StepError(ErrorCode.TIMEOUT, f"{said} (the server took too long)")
    if code >= 500:
        return retrying.ServiceUnavailable(failure, said)
    return StepError(failure, said)


def map_error(exc: BaseException, failure: ErrorCode = ErrorCode.GENERATION_FAILED) -> StepError | None:
    """The error code of an exception raised by the SDK; None when it is not one of its own."""
    if isinstance(exc, StepError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return StepError(ErrorCode.TIMEOUT, "the model server did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return StepError(ErrorCode.NETWORK_ERROR, f"could not reach the model server: {exc}")
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, failure)
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        return StepError(failure, f"the model server sent an answer that is not valid: {exc}")
    return None


class OpenAIContentProvider(LLMContentProvider):
    """Insights, drafts and the QA judge from an OpenAI-compatible server."""

    def __init__(self, settings: Settings):
        super().__init__(OpenAIClient(settings, ErrorCode.GENERATION_FAILED))
