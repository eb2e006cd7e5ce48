"""Gemini through google-genai: insights, drafts, the QA judge, and speech recognition.

The only module that imports ``google.genai``. Every call declares its answer as a pydantic
model (``response_schema``); the answer is validated and asked again once when it does not fit
(:mod:`pipeline.structured`). Transcripts and everything derived from them go into prompts
fenced as untrusted data. Calls pass the shared rate limiter (:mod:`pipeline.ratelimit`), and
SDK errors become error codes (:func:`map_error`).

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
import secrets
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from pipeline import defaults
from pipeline.errors import ErrorCode, StepError
from pipeline.grounding import ground_quotes
from pipeline.models import (
    LINKEDIN_LIMIT,
    X_POST_LIMIT,
    Draft,
    DraftFormat,
    InsightPack,
    JobOptions,
    JudgeScore,
    OutlineItem,
    Provenance,
    Quote,
    Theme,
)
from pipeline.prompts import Prompt, load_prompt
from pipeline.providers.base import ASR, DRAFTS, INSIGHTS, JUDGE, Generation, ProgressFn
from pipeline.qa import BANNED_PHRASES, number_posts, strip_numbering
from pipeline.ratelimit import limiter_for
from pipeline.settings import Settings
from pipeline.structured import Answer, Reask, Structured, ask_structured
from pipeline.transcript import Segment, Transcript, timestamp

__all__ = [
    "GeminiContentProvider",
    "GeminiSpeechRecognizer",
    "Price",
    "PRICES",
    "price_of",
    "estimate_cost",
    "map_error",
    "Fence",
    "transcript_lines",
    "InsightsAnswer",
    "ArticleAnswer",
    "NewsletterAnswer",
    "BlogAnswer",
    "ThreadAnswer",
    "LinkedInAnswer",
    "JudgeAnswer",
    "TranscriptAnswer",
    "MISSING_KEY",
]

log = logging.getLogger("clipinsight.gemini")
M = TypeVar("M", bound=BaseModel)

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


# --- Fenced prompts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Fence:
    """Markers around untrusted data, unique per call so that the data cannot close them."""

    id: str

    @classmethod
    def new(cls) -> Fence:
        return cls(secrets.token_hex(6))

    def wrap(self, label: str, text: str) -> str:
        text = text.replace("<<<", "< < <")  # no line of the data can look like a marker
        return f"<<<BEGIN {label} {self.id}>>>\n{text}\n<<<END {label} {self.id}>>>"


def transcript_lines(transcript: Transcript) -> str:
    """One line per segment: ``[m:ss] SPEAKER: text``."""
    return "\n".join(
        f"[{timestamp(s.start)}] " + (f"{s.speaker}: " if s.speaker else "") + s.text for s in transcript.segments
    )


# --- Response models -----------------------------------------------------------------------

_CLOCK = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)\s*$")


def clock_seconds(value: str) -> float:
    """``m:ss``, ``h:mm:ss`` (fractions allowed) or plain seconds -> seconds."""
    match = _CLOCK.match(value)
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time; write m:ss, like 4:05") from None


class ThemeAnswer(BaseModel):
    title: str = Field(min_length=2, max_length=90, description="A short name for the theme.")
    summary: str = Field(min_length=10, description="One or two sentences on what the speaker says about it.")
    keywords: list[str] = Field(min_length=1, max_length=8, description="A few words or short phrases.")


class QuoteAnswer(BaseModel):
    text: str = Field(
        min_length=1,
        description="Words copied exactly from the transcript, without the [m:ss] time or the speaker label.",
    )
    theme: str | None = Field(default=None, description="The title of the theme the quote belongs to.")


class OutlineAnswer(BaseModel):
    start: str = Field(description="Time of the transcript line where this part begins, as m:ss or h:mm:ss.")
    title: str = Field(min_length=2, max_length=90)
    summary: str = Field(default="", description="One sentence.")

    @field_validator("start")
    @classmethod
    def _within_talk(cls, value: str, info: ValidationInfo) -> str:
        seconds = clock_seconds(value)
        duration = (info.context or {}).get("duration")
        if duration is not None and seconds > duration + 1:
            raise ValueError(f"{value} is after the end of the talk ({timestamp(duration)})")
        return value


class InsightsAnswer(BaseModel):
    title: str = Field(min_length=3, max_length=120, description="A title for the talk.")
    summary: str = Field(min_length=20, description="Two or three sentences on what the talk is about.")
    themes: list[ThemeAnswer] = Field(min_length=1, max_length=10)
    quotes: list[QuoteAnswer] = Field(min_length=1, max_length=15)
    outline: list[OutlineAnswer] = Field(min_length=1, max_length=20)

    def to_pack(self) -> InsightPack:
        """The pack before grounding: quote times are filled in from the transcript."""
        outline = sorted(
            (OutlineItem(start=clock_seconds(o.start), title=o.title, summary=o.summary) for o in self.outline),
            key=lambda item: item.start,
        )
        return InsightPack(
            title=self.title,
            summary=self.summary,
            themes=[Theme(**t.model_dump()) for t in self.themes],
            quotes=[Quote(text=q.text, start=0.0, end=0.0, theme=q.theme) for q in self.quotes],
            outline=outline,
        )


class _DraftAnswer(BaseModel):
    title: str = Field(min_length=3, max_length=150, description="The title or subject line.")

    def full_text(self) -> str:
        raise NotImplementedError

    @model_validator(mode="after")
    def _has_cta(self, info: ValidationInfo):
        cta = (info.context or {}).get("cta_url")
        if cta and cta.rstrip("/") not in self.full_text():
            raise ValueError(f"the call-to-action link {cta} must appear exactly as written")
        return self


class ArticleAnswer(_DraftAnswer):
    """An article in Markdown."""

    body: str = Field(min_length=200, description="The text in Markdown, without the title.")

    def full_text(self) -> str:
        return self.body

    def to_draft(self, fmt: DraftFormat) -> Draft:
        return Draft(format=fmt, title=self.title.strip(), body=self.body.strip() + "\n")


#: Room left in a post for the "12/12 " numbering added after the answer.
POST_ROOM = X_POST_LIMIT - 8


class ThreadAnswer(_DraftAnswer):
    posts: list[Annotated[str, Field(min_length=1, max_length=POST_ROOM)]] = Field(
        min_length=3, max_length=15, description=f"The posts in order, unnumbered, each at most {POST_ROOM} characters."
    )

    def full_text(self) -> str:
        return "\n\n".join(self.posts)

    def to_draft(self, fmt: DraftFormat) -> Draft:
        posts = number_posts([strip_numbering(p) for p in self.posts])
        return Draft(format=fmt, title=self.title.strip(), body="\n\n".join(posts), posts=posts)


class LinkedInAnswer(_DraftAnswer):
    body: str = Field(min_length=200, max_length=LINKEDIN_LIMIT, description="The post as plain text.")

    def full_text(self) -> str:
        return self.body

    def to_draft(self, fmt: DraftFormat) -> Draft:
        return Draft(format=fmt, title=self.title.strip(), body=self.body.strip())


# One class per format although they share their fields: the schema's title tells the model
# (and anyone reading a request) which draft is wanted. Docstrings are sent as descriptions.
class NewsletterAnswer(ArticleAnswer):
    """A newsletter issue."""


class BlogAnswer(ArticleAnswer):
    """A blog post."""


_DRAFT_ANSWERS: dict[DraftFormat, type[_DraftAnswer]] = {
    DraftFormat.NEWSLETTER: NewsletterAnswer,
    DraftFormat.BLOG: BlogAnswer,
    DraftFormat.X_THREAD: ThreadAnswer,
    DraftFormat.LINKEDIN: LinkedInAnswer,
}


class Criterion(BaseModel):
    score: int = Field(ge=0, le=10, description="0 (worst) to 10 (best).")
    reason: str = Field(min_length=3, description="One sentence that explains the score.")


class JudgeAnswer(BaseModel):
    accuracy: Criterion = Field(description="Claims, numbers and quotes are what the speaker said.")
    voice: Criterion = Field(description="Sounds like the creator talking.")
    platform_fit: Criterion = Field(description="Length, structure and style suit the platform.")
    hook: Criterion = Field(description="The opening makes the reader continue.")
    clarity: Criterion = Field(description="Easy to follow, no filler or repetition.")
    safety: Criterion = Field(description="10: safe to publish as is; 3 or less: high risk.")

    def scores(self) -> list[JudgeScore]:
        return [
            JudgeScore(criterion=name, score=getattr(self, name).score, reason=getattr(self, name).reason)
            for name in type(self).model_fields
        ]


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


# --- One configured client -----------------------------------------------------------------

#: The usual ratio of characters to tokens in English text, for estimates before a call.
CHARS_PER_TOKEN = 4
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


class _Gemini:
    """The client, the rate limiter and the error mapping that every call shares."""

    def __init__(self, settings: Settings, failure: ErrorCode):
        if not settings.gemini_api_key:
            raise StepError(ErrorCode.API_KEY_INVALID, MISSING_KEY)
        self.settings = settings
        self.model = settings.gemini_model
        self.failure = failure
        self.limiter = limiter_for(settings, self.model)
        options = types.HttpOptions(timeout=int(settings.gemini_timeout_s * 1000))
        if settings.gemini_base_url:
            options.base_url = settings.gemini_base_url
        self.client = genai.Client(api_key=settings.gemini_api_key, http_options=options)

    def structured(
        self,
        prompt: Prompt,
        values: dict,
        schema: type[M],
        *,
        context: dict | None = None,
        parts: tuple[types.Part, ...] = (),
        part_tokens: int = 0,
    ) -> tuple[M, Provenance, tuple[str, ...]]:
        """Ask ``prompt`` (rendered with ``values``) for an answer of ``schema``. ``parts`` go
        before the text (an audio file); ``part_tokens`` is their estimated size."""
        config = self._config(prompt, prompt.render("system", **values), schema)
        contents = [_user(*parts, types.Part.from_text(text=prompt.render("user", **values)))]
        estimate = _estimate_tokens(contents, config) + part_tokens
        result = ask_structured(lambda reask: self._ask(contents, config, reask, estimate), schema, context=context)
        return result.value, self._provenance(prompt, result), _reask_notes(result)

    def _config(self, prompt: Prompt, system: str, schema: type[BaseModel]) -> types.GenerateContentConfig:
        """The prompt file's model parameters; settings, when set, win over them."""
        params, settings = prompt.params, self.settings
        return types.GenerateContentConfig(
            system_instruction=system.strip(),
            temperature=_first_set(settings.gemini_temperature, params.get("temperature")),
            max_output_tokens=params.get("max_output_tokens"),
            response_mime_type="application/json",
            response_schema=schema,
            thinking_config=_thinking(
                self.model, _first_set(settings.gemini_thinking_budget, params.get("thinking_budget"))
            ),
        )

    def _ask(
        self, contents: list[types.Content], config: types.GenerateContentConfig, reask: Reask | None, estimate: int
    ) -> Answer:
        if reask is not None:
            contents = [
                *contents,
                types.Content(role="model", parts=[types.Part.from_text(text=reask.answer.text)]),
                _user(types.Part.from_text(text=reask.feedback)),
            ]
            estimate += math.ceil((len(reask.answer.text) + len(reask.feedback)) / CHARS_PER_TOKEN)
        grant = self.limiter.acquire(estimate)
        started = time.perf_counter()
        response = self.call(
            lambda: self.client.models.generate_content(model=self.model, contents=contents, config=config)
        )
        answer = self._read(response, (time.perf_counter() - started) * 1000)
        self.limiter.settle(grant, answer.tokens_in)
        return answer

    def call(self, request):
        """Run one SDK request; its errors come out as StepErrors (a 429 also pauses every
        worker for as long as the service asked)."""
        try:
            return request()
        except Exception as exc:
            mapped = map_error(exc, self.failure)
            if mapped is None:
                raise
            if mapped.code is ErrorCode.RATE_LIMITED and mapped.retry_after:
                self.limiter.pause(mapped.retry_after)
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

    def _provenance(self, prompt: Prompt, result: Structured) -> Provenance:
        return Provenance(
            provider="gemini",
            model=self.model,
            prompt_name=prompt.name,
            prompt_version=prompt.version,
            tokens_in=result.tokens_in,
            tokens_out=result.tokens_out,
            cost_usd=round(result.cost_usd, 6),
            latency_ms=round(result.latency_ms, 3),
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


def _estimate_tokens(contents: list[types.Content], config: types.GenerateContentConfig) -> int:
    """Input tokens of the text of a request, estimated before it is sent."""
    chars = len(str(config.system_instruction or ""))
    chars += sum(len(part.text or "") for content in contents for part in content.parts or [])
    return math.ceil(chars / CHARS_PER_TOKEN)


def _reask_notes(result: Structured) -> tuple[str, ...]:
    return tuple(f"the model's answer did not fit the schema ({problem}); asked again" for problem in result.problems)


# --- Content provider ----------------------------------------------------------------------


def _limits(fmt: DraftFormat) -> str:
    if fmt is DraftFormat.X_THREAD:
        return f"each post at most {X_POST_LIMIT} characters"
    if fmt is DraftFormat.LINKEDIN:
        return f"at most {LINKEDIN_LIMIT} characters"
    return "no length limit"


class GeminiContentProvider:
    """Insights, drafts and the QA judge from Gemini, with the offline provider's interface."""

    name = "gemini"
    capabilities = frozenset({INSIGHTS, DRAFTS, JUDGE})

    def __init__(self, settings: Settings):
        self._gemini = _Gemini(settings, ErrorCode.GENERATION_FAILED)
        self.model = self._gemini.model

    @staticmethod
    def prompt_name(task: str) -> str | None:
        """The prompt file read for a task: ``insights``, ``draft_<format>`` or ``qa_judge``."""
        if task.startswith("draft:"):
            return f"draft_{DraftFormat(task.removeprefix('draft:')).value}"
        return task if task in ("insights", "qa_judge") else None

    def insights(
        self, transcript: Transcript, options: JobOptions, *, prompt_version: str | None = None
    ) -> Generation[InsightPack]:
        prompt, fence = load_prompt("insights", prompt_version), Fence.new()
        values = {
            **prompt.params,
            "tone": options.tone,
            "duration": timestamp(transcript.duration),
            "fence_id": fence.id,
            "transcript": fence.wrap("TRANSCRIPT", transcript_lines(transcript)),
        }
        answer, provenance, notes = self._gemini.structured(
            prompt, values, InsightsAnswer, context={"duration": transcript.duration}
        )
        pack, report = ground_quotes(answer.to_pack(), transcript)
        for repair in report.repaired:
            log.info("quote repaired to the transcript's words: %r -> %r", repair.before, repair.after)
        return Generation(pack, provenance, (*notes, report.summary()))

    def draft(
        self,
        fmt: DraftFormat,
        transcript: Transcript,
        insights: InsightPack,
        options: JobOptions,
        *,
        prompt_version: str | None = None,
    ) -> Generation[Draft]:
        fmt = DraftFormat(fmt)
        prompt, fence = load_prompt(f"draft_{fmt.value}", prompt_version), Fence.new()
        cta = prompt.render("cta_given", cta_url=options.cta_url) if options.cta_url else prompt.render("cta_none")
        values = {
            **prompt.params,
            "tone": options.tone,
            "cta": cta,
            "fence_id": fence.id,
            "post_limit": POST_ROOM,
            "banned_phrases": "; ".join(f'"{p}"' for p in BANNED_PHRASES),
            "insights": fence.wrap("INSIGHTS", insights.model_dump_json(indent=1)),
            "transcript": fence.wrap("TRANSCRIPT", transcript_lines(transcript)),
        }
        answer, provenance, notes = self._gemini.structured(
            prompt, values, _DRAFT_ANSWERS[fmt], context={"cta_url": options.cta_url}
        )
        return Generation(answer.to_draft(fmt), provenance, notes)

    def judge(
        self, draft: Draft, transcript: Transcript, *, prompt_version: str | None = None
    ) -> Generation[list[JudgeScore]]:
        prompt, fence = load_prompt("qa_judge", prompt_version), Fence.new()
        values = {
            "format": draft.format.label,
            "limits": _limits(draft.format),
            "fence_id": fence.id,
            "draft": fence.wrap("DRAFT", f"{draft.title}\n\n{draft.text()}"),
            "transcript": fence.wrap("TRANSCRIPT", transcript_lines(transcript)),
        }
        answer, provenance, notes = self._gemini.structured(prompt, values, JudgeAnswer)
        return Generation(answer.scores(), provenance, notes)


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
        self._gemini = _Gemini(settings, ErrorCode.TRANSCRIPTION_FAILED)
        self.model = self._gemini.model

    def transcribe(self, audio_path: Path, progress: ProgressFn | None = None) -> Generation[Transcript]:
        path, report = Path(audio_path), progress or (lambda fraction: None)
        if not path.is_file():
            raise StepError(ErrorCode.INVALID_INPUT, f"the audio file {path.name} does not exist")
        mime = audio_mime_type(path)
        uploaded = self._gemini.call(
            lambda: self._gemini.client.files.upload(
                file=path, config=types.UploadFileConfig(mime_type=mime, display_name=path.name)
            )
        )
        report(0.2)
        try:
            ready = self._wait_until_active(uploaded)
            report(0.4)
            audio = types.Part.from_uri(file_uri=ready.uri, mime_type=ready.mime_type or mime)
            answer, provenance, notes = self._gemini.structured(
                load_prompt("transcribe"), {}, TranscriptAnswer, parts=(audio,), part_tokens=_audio_tokens(path)
            )
        finally:
            self._delete(uploaded)
        report(1.0)
        return Generation(answer.to_transcript(), provenance, notes)

    def _wait_until_active(self, uploaded: types.File) -> types.File:
        deadline = time.monotonic() + defaults.GEMINI_FILE_READY_TIMEOUT_S
        current = uploaded
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
            current = self._gemini.call(lambda: self._gemini.client.files.get(name=uploaded.name))
        return current

    def _delete(self, uploaded: types.File) -> None:
        """Uploads expire after 48 hours anyway; deleting now keeps the project's storage free."""
        try:
            self._gemini.client.files.delete(name=uploaded.name)
        except Exception as exc:  # a failed clean-up must not fail a finished transcription
            log.warning("could not delete %s from Gemini: %s", uploaded.name, exc)
