"""Gemini through google-genai: the LLM adapter and speech recognition.

The only module that imports ``google.genai``. :class:`GeminiClient` implements the one method of
:class:`~pipeline.providers.llm.LLMClient` — one ``generate_content`` request with the answer's schema as
``response_schema`` — and maps the SDK's errors to error codes (:func:`map_error`); prompts,
fences, re-asks, grounding, retries and rate limits live in :mod:`pipeline.providers.generation` and
:mod:`pipeline.providers.llm`, shared with every other model. :class:`GeminiSpeechRecognizer` uploads
audio (Files API), waits until it is processed and asks for timestamped segments, through the
same retry policy and limiter.

Settings: ``GEMINI_API_KEY`` (environment or ``.streamlit/secrets.toml``), ``GEMINI_MODEL``,
``GEMINI_TEMPERATURE`` and ``GEMINI_THINKING_BUDGET`` (override the prompt files),
``GEMINI_TIMEOUT_S``, ``GEMINI_RPM`` / ``GEMINI_TPM``, and ``GEMINI_BASE_URL`` to point the client
at another endpoint (a proxy, or the local server the tests use).
"""

from __future__ import annotations

import email.utils
import logging
import math
import mimetypes
import re
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, Field, field_validator, model_validator

from pipeline import defaults, retrying
from pipeline.errors import ErrorCode, StepError
from pipeline.prompts import Prompt, load_prompt
from pipeline.providers.base import ASR, Generation, ProgressFn
from pipeline.providers.generation import LLMContentProvider, clock_seconds, provenance, reask_notes
from pipeline.providers.llm import ModelParams, Turn, ask
from pipeline.ratelimit import limiter_for
from pipeline.settings import Settings
from pipeline.structured import Answer, Structured
from pipeline.transcript import Segment, Transcript

__all__ = [
    "GeminiClient",
    "GeminiContentProvider",
    "GeminiSpeechRecognizer",
    "Price",
    "PRICES",
    "price_of",
    "estimate_cost",
    "map_error",
    "TranscriptAnswer",
    "MISSING_KEY",
]

log = logging.getLogger("clipinsight.gemini")

MISSING_KEY = (
    "Gemini is selected but GEMINI_API_KEY is not set. Create a key at https://aistudio.google.com/apikey and "
    'either export GEMINI_API_KEY=... before starting ClipInsight or add the line GEMINI_API_KEY = "..." to '
    ".streamlit/secrets.toml; or run offline with CLIPINSIGHT_PROVIDER=local."
)


# --- Prices ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens on the paid tier (the free tier costs nothing)."""

    input: float
    audio_input: float
    output: float  # thinking tokens are billed as output


#: Published paid-tier prices (prompts up to 200k tokens). The free tier is free but rate
#: limited; these give the cost a paid key would be charged.
PRICES: dict[str, Price] = {
    "gemini-2.5-flash-lite": Price(input=0.10, audio_input=0.30, output=0.40),
    "gemini-2.5-flash": Price(input=0.30, audio_input=1.00, output=2.50),
    "gemini-2.5-pro": Price(input=1.25, audio_input=1.25, output=10.00),
    "gemini-2.0-flash-lite": Price(input=0.075, audio_input=0.075, output=0.30),
    "gemini-2.0-flash": Price(input=0.10, audio_input=0.70, output=0.40),
}


def price_of(model: str) -> Price:
    """The price of ``model`` (the longest known name it starts with); the default model's
    price for a model this table does not know."""
    name = model.removeprefix("models/")
    known = [key for key in PRICES if name.startswith(key)]
    return PRICES[max(known, key=len)] if known else PRICES[defaults.GEMINI_MODEL]


def estimate_cost(model: str, tokens_in: int, tokens_out: int, *, audio_tokens: int = 0) -> float:
    price = price_of(model)
    text_in = max(tokens_in - audio_tokens, 0)
    dollars = text_in * price.input + audio_tokens * price.audio_input + tokens_out * price.output
    return round(dollars / 1_000_000, 6)


# --- Transcription answer --------------------------------------------------------------------


class SegmentAnswer(BaseModel):
    start: str = Field(description="Start from the beginning of the audio, as m:ss.s or h:mm:ss.s.")
    end: str = Field(description="End, as m:ss.s or h:mm:ss.s.")
    speaker: str | None = Field(default=None, description="SPEAKER 1, SPEAKER 2, ... when several people speak.")
    text: str = Field(min_length=1, description="What is said, word for word.")

    @field_validator("start", "end")
    @classmethod
    def _is_time(cls, value: str) -> str:
        clock_seconds(value)
        return value


class TranscriptAnswer(BaseModel):
    language: str = Field(default="en", description="ISO 639-1 code of the language spoken.")
    segments: list[SegmentAnswer] = Field(min_length=1)

    @model_validator(mode="after")
    def _times_increase(self):
        previous = 0.0
        for number, segment in enumerate(self.segments, 1):
            start, end = clock_seconds(segment.start), clock_seconds(segment.end)
            if end < start:
                raise ValueError(f"segment {number} ends ({segment.end}) before it starts ({segment.start})")
            if start < previous - 0.5:
                raise ValueError(f"segment {number} starts ({segment.start}) before the segment before it")
            previous = start
        return self

    def to_transcript(self) -> Transcript:
        segments = [
            Segment(
                start=clock_seconds(s.start), end=clock_seconds(s.end), text=s.text.strip(), speaker=s.speaker or None
            )
            for s in self.segments
            if s.text.strip()
        ]
        return Transcript(segments=segments, language=self.language or "en", source="gemini")


# --- Errors --------------------------------------------------------------------------------


def _transport_errors(*names: str) -> tuple[type[BaseException], ...]:
    """Exception classes of the HTTP stacks the SDK may use (httpx, and its fork httpx2)."""
    import importlib

    found = []
    for module_name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found += [getattr(module, name) for name in names if hasattr(module, name)]
    return tuple(found)


_TIMEOUTS = _transport_errors("TimeoutException")
_NETWORK = _transport_errors("TransportError")
#: Finish and block reasons that mean "the content was refused", not "try again".
_POLICY_REASONS = frozenset(
    {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"}
)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def _header_seconds(value: str) -> float | None:
    """A Retry-After value: seconds, or an HTTP date."""
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(email.utils.parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _retry_after(exc: genai_errors.APIError) -> float | None:
    """Seconds the service asked us to wait: the Retry-After header, else RetryInfo in the body."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    header = headers.get("retry-after") if hasattr(headers, "get") else None
    if header:
        return _header_seconds(header)
    for detail in _error_details(exc):
        match = _DURATION.match(str(detail.get("retryDelay", "")))
        if detail.get("@type", "").endswith("RetryInfo") and match:
            return float(match.group(1))
    return None


def _error_details(exc: genai_errors.APIError) -> list[dict]:
    body = exc.details if isinstance(exc.details, dict) else {}
    details = (body.get("error") or body).get("details") or []
    return [d for d in details if isinstance(d, dict)]


def _reasons(exc: genai_errors.APIError) -> set[str]:
    return {str(d.get("reason")) for d in _error_details(exc) if d.get("reason")}


def _api_error(exc: genai_errors.APIError, failure: ErrorCode) -> StepError:
    code, status = exc.code, exc.status or ""
    said = f"Gemini answered {code} {status}".strip() + (f": {exc.message}" if exc.message else "")
    if code == 429:
        return StepError(ErrorCode.RATE_LIMITED, f"{said} (rate limit or quota)", retry_after=_retry_after(exc))
    if code in (401, 403) or "API_KEY_INVALID" in _reasons(exc):
        return StepError(
            ErrorCode.API_KEY_INVALID,
            f"{said}. Check GEMINI_API_KEY: the key is missing, revoked or not allowed to use this model.",
        )
    if code == 404:
        return StepError(ErrorCode.INVALID_INPUT, f"{said}. Check GEMINI_MODEL (now a model the API does not know).")
    if code == 400:
        return StepError(ErrorCode.INVALID_INPUT, f"{said}")
    if code == 504 or status == "DEADLINE_EXCEEDED":
        return StepError(ErrorCode.TIMEOUT, f"{said} (the service took too long)")
    if code in (500, 502, 503):  # "the model is overloaded": retried by the call, then the step's own code
        return retrying.ServiceUnavailable(failure, said)
    return StepError(failure, said)


def map_error(exc: BaseException, failure: ErrorCode = ErrorCode.GENERATION_FAILED) -> StepError | None:
    """The error code of an exception raised by the SDK or its HTTP client; None when it is
    not one of theirs. ``failure`` is the step's own code for a server-side failure."""
    if isinstance(exc, StepError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        return _api_error(exc, failure)
    if isinstance(exc, _TIMEOUTS):
        return StepError(ErrorCode.TIMEOUT, f"Gemini did not answer in time ({type(exc).__name__})")
    if isinstance(exc, _NETWORK):
        return StepError(ErrorCode.NETWORK_ERROR, f"could not reach Gemini: {type(exc).__name__}: {exc}")
    if isinstance(exc, genai_errors.UnknownApiResponseError):
        return StepError(failure, f"Gemini sent an answer that is not JSON: {exc}")
    return None


def _refused(reason: str, where: str) -> StepError:
    return StepError(
        ErrorCode.CONTENT_POLICY_VIOLATION,
        f"Gemini refused {where} ({reason}): its safety filters blocked the content. Review the transcript; the "
        "job can run with the local provider (CLIPINSIGHT_PROVIDER=local) if the content is fine.",
    )


def _name(value: Any) -> str:
    return str(getattr(value, "name", value) or "")


# --- The client ----------------------------------------------------------------------------

#: Gemini counts 32 tokens per second of audio.
AUDIO_TOKENS_PER_SECOND = 32
#: For audio other than WAV the length is estimated from the size: about 16 kB a second.
COMPRESSED_AUDIO_BYTES_PER_SECOND = 16_000
#: The smallest thinking budget of models that cannot turn thinking off (2.5 Pro).
MIN_PRO_THINKING = 128


def _thinking(model: str, budget: int | None) -> types.ThinkingConfig | None:
    """The thinking budget for ``model``: none for models without thinking (1.x, 2.0), at least
    MIN_PRO_THINKING for Pro models, which reject 0."""
    if budget is None or re.match(r"(models/)?gemini-(1\.|2\.0)", model):
        return None
    if "-pro" in model and 0 <= budget < MIN_PRO_THINKING:
        budget = MIN_PRO_THINKING
    return types.ThinkingConfig(thinking_budget=budget)


def _first_set(*values):
    return next((value for value in values if value is not None), None)


def _user(*parts: types.Part) -> types.Content:
    return types.Content(role="user", parts=list(parts))


def _first_set(*values):
    return next((value for value in values if value is not None), None)


def _content(turn: Turn) -> types.Content:
    parts = [*turn.attachments, types.Part.from_text(text=turn.text)]
    return types.Content(role="model" if turn.role == "model" else "user", parts=parts)


class GeminiClient:
    """One Gemini model behind :meth:`complete` (see :class:`pipeline.providers.llm.LLMClient`)."""

    name = "gemini"

    def __init__(self, settings: Settings, failure: ErrorCode = ErrorCode.GENERATION_FAILED):
        if not settings.gemini_api_key:
            raise StepError(ErrorCode.API_KEY_INVALID, MISSING_KEY)
        self.settings = settings
        self.model = settings.gemini_model
        self.failure = failure
        self.limiter = limiter_for(settings, self.model)
        self.policy = retrying.CallPolicy(initial_s=settings.call_retry_initial_s)
        options = types.HttpOptions(timeout=int(settings.gemini_timeout_s * 1000))
        if settings.gemini_base_url:
            options.base_url = settings.gemini_base_url
        self.client = genai.Client(api_key=settings.gemini_api_key, http_options=options)

    def complete(self, system: str, turns: Sequence[Turn], schema: type[BaseModel], params: ModelParams) -> Answer:
        config = self._config(system, schema, params)
        started = time.perf_counter()
        response = self.call(
            lambda: self.client.models.generate_content(
                model=self.model, contents=[_content(t) for t in turns], config=config
            )
        )
        return self._read(response, (time.perf_counter() - started) * 1000)

    def _config(self, system: str, schema: type[BaseModel], params: ModelParams) -> types.GenerateContentConfig:
        """The prompt file's model parameters; settings, when set, win over them."""
        settings = self.settings
        return types.GenerateContentConfig(
            system_instruction=system,
            temperature=_first_set(settings.gemini_temperature, params.temperature),
            max_output_tokens=params.max_output_tokens,
            response_mime_type="application/json",
            response_schema=schema,
            thinking_config=_thinking(self.model, _first_set(settings.gemini_thinking_budget, params.thinking_budget)),
        )

    def call(self, request):
        """Run one SDK request; its errors come out as StepErrors."""
        try:
            return request()
        except Exception as exc:
            mapped = map_error(exc, self.failure)
            if mapped is None:
                raise
            raise mapped from exc

    def _read(self, response: types.GenerateContentResponse, latency_ms: float) -> Answer:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason:
            raise _refused(_name(feedback.block_reason), "the request")
        if not response.candidates:
            raise StepError(self.failure, "Gemini returned no answer")
        candidate = response.candidates[0]
        finish = _name(candidate.finish_reason)
        if finish in _POLICY_REASONS:
            raise _refused(finish, "to answer")
        parts = candidate.content.parts if candidate.content and candidate.content.parts else []
        text = "".join(p.text for p in parts if p.text and not p.thought)
        tokens_in, tokens_out, audio = _usage(response.usage_metadata)
        return Answer(
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=round(latency_ms, 3),
            cost_usd=estimate_cost(self.model, tokens_in, tokens_out, audio_tokens=audio),
            truncated=finish == "MAX_TOKENS",
        )


def _usage(usage: types.GenerateContentResponseUsageMetadata | None) -> tuple[int, int, int]:
    """(input tokens, output tokens including thinking, audio input tokens)."""
    if usage is None:
        return 0, 0, 0
    audio = sum(d.token_count or 0 for d in usage.prompt_tokens_details or [] if _name(d.modality) == "AUDIO")
    return (
        usage.prompt_token_count or 0,
        (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0),
        audio,
    )


class GeminiContentProvider(LLMContentProvider):
    """Insights, drafts and the QA judge from Gemini."""

    def __init__(self, settings: Settings):
        super().__init__(GeminiClient(settings, ErrorCode.GENERATION_FAILED))


# --- Speech recognition --------------------------------------------------------------------

#: Audio types the Gemini API accepts, by file suffix.
AUDIO_TYPES = {
    ".mp3": "audio/mp3",
    ".wav": "audio/wav",
    ".m4a": "audio/aac",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".aiff": "audio/aiff",
    ".webm": "audio/webm",
}


def _audio_tokens(path: Path) -> int:
    """Tokens Gemini will count for the audio (for the rate limiter, before the call)."""
    try:
        with wave.open(str(path), "rb") as audio:
            seconds = audio.getnframes() / audio.getframerate()
    except (wave.Error, EOFError, OSError):
        seconds = path.stat().st_size / COMPRESSED_AUDIO_BYTES_PER_SECOND
    return math.ceil(seconds * AUDIO_TOKENS_PER_SECOND)


def audio_mime_type(path: Path) -> str:
    known = AUDIO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if not known or not known.startswith(("audio/", "video/")):
        raise StepError(
            ErrorCode.INVALID_INPUT,
            f"{path.name} is not an audio file Gemini can transcribe ({', '.join(sorted(AUDIO_TYPES))})",
        )
    return known


class GeminiSpeechRecognizer:
    """One audio file -> a timestamped transcript: upload (Files API), wait until Gemini has
    processed it, ask for segments, delete the upload."""

    name = "gemini"
    capabilities = frozenset({ASR})

    def __init__(self, settings: Settings):
        self._gemini = GeminiClient(settings, ErrorCode.TRANSCRIPTION_FAILED)
        self.model = self._gemini.model

    def _remote(self, request, what: str):
        """One Files API request, its transient failures retried by the one policy."""
        gemini = self._gemini
        return retrying.call(lambda: gemini.call(request), classify=_as_step_error, policy=gemini.policy, what=what)

    def transcribe(self, audio_path: Path, progress: ProgressFn | None = None) -> Generation[Transcript]:
        path, report = Path(audio_path), progress or (lambda fraction: None)
        if not path.is_file():
            raise StepError(ErrorCode.INVALID_INPUT, f"the audio file {path.name} does not exist")
        mime = audio_mime_type(path)
        files = self._gemini.client.files
        upload_config = types.UploadFileConfig(mime_type=mime, display_name=path.name)
        uploaded = self._remote(lambda: files.upload(file=path, config=upload_config), "gemini upload")
        report(0.2)
        try:
            ready = self._wait_until_active(uploaded)
            report(0.4)
            audio = types.Part.from_uri(file_uri=ready.uri, mime_type=ready.mime_type or mime)
            prompt = load_prompt("transcribe")
            result = self._ask(prompt, audio, _audio_tokens(path))
        finally:
            self._delete(uploaded)
        report(1.0)
        made = provenance("gemini", self.model, prompt, result)
        return Generation(result.value.to_transcript(), made, reask_notes(result))

    def _ask(self, prompt: Prompt, audio: types.Part, audio_tokens: int) -> Structured:
        turn = Turn("user", prompt.render("user"), attachments=(audio,))
        params = ModelParams.of(prompt.params)
        return ask(
            self._gemini, prompt.render("system").strip(), [turn], TranscriptAnswer, params, extra_tokens=audio_tokens
        )

    def _wait_until_active(self, uploaded: types.File) -> types.File:
        deadline = time.monotonic() + defaults.GEMINI_FILE_READY_TIMEOUT_S
        current, files = uploaded, self._gemini.client.files
        while _name(current.state) != "ACTIVE":
            if _name(current.state) == "FAILED":
                reason = current.error.message if current.error else "no reason given"
                raise StepError(ErrorCode.TRANSCRIPTION_FAILED, f"Gemini could not process the audio: {reason}")
            if time.monotonic() > deadline:
                raise StepError(
                    ErrorCode.TIMEOUT,
                    f"Gemini did not finish processing the audio in {defaults.GEMINI_FILE_READY_TIMEOUT_S:.0f} s",
                )
            time.sleep(defaults.GEMINI_FILE_POLL_S)
            current = self._remote(lambda: files.get(name=uploaded.name), "gemini file status")
        return current

    def _delete(self, uploaded: types.File) -> None:
        """Uploads expire after 48 hours anyway; deleting now keeps the project's storage free."""
        try:
            self._gemini.client.files.delete(name=uploaded.name)
        except Exception as exc:  # a failed clean-up must not fail a finished transcription
            log.warning("could not delete %s from Gemini: %s", uploaded.name, exc)


def _as_step_error(exc: BaseException) -> StepError | None:
    return exc if isinstance(exc, StepError) else None
