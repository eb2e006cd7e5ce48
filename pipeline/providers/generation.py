"""Insights, drafts and the QA judge from any language model: the provider-neutral half of
every LLM provider.

:class:`LLMContentProvider` turns a task into a question for an :class:`~pipeline.providers.llm.LLMClient`
(Gemini, any OpenAI-compatible server) and the answer back into the product's types. What every
model needs is here, once:

- prompts are versioned files (``insights``, ``draft_<format>``, ``qa_judge``) rendered with
  the job's tone, call to action, whose talk it is and the workspace's voice profile;
- a creator's instruction for a regenerated draft ("shorter") goes in the user turn as a fenced,
  quoted request (``draft_request``), never in the system instructions, and cannot lift a rule;
- untrusted text (the transcript, the insight pack, a draft, the voice's example posts) goes in
  fenced with markers unique to the call, so that it cannot close the fence;
- every answer has a schema (the format spec's ``answer`` for drafts) and is validated, asked
  again once when it does not fit (:func:`pipeline.providers.llm.ask`);
- quotes are grounded in the transcript (:mod:`pipeline.grounding`); a quote that holds an
  instruction or a link is dropped; a draft keeps only links the creator supplied or the speaker
  said (QA lists the latter for an editor);
- provenance: provider, model, prompt name and version, tokens, cost and time of the calls.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from pipeline import formats
from pipeline.grounding import ground_quotes
from pipeline.models import Draft, InsightPack, JudgeScore, OutlineItem, Provenance, Quote, Theme, VoiceProfile
from pipeline.options import JobOptions
from pipeline.prompts import Prompt, load_prompt
from pipeline.providers.base import DRAFTS, INSIGHTS, INSTRUCTIONS, JUDGE, Generation
from pipeline.providers.llm import LLMClient, ModelParams, ask
from pipeline.qa import BANNED_PHRASES
from pipeline.structured import Structured
from pipeline.text import find_links
from pipeline.transcript import Transcript, timestamp
from pipeline.untrusted import holds_untrusted

__all__ = [
    "LLMContentProvider",
    "Fence",
    "transcript_lines",
    "clock_seconds",
    "InsightsAnswer",
    "JudgeAnswer",
    "voice_text",
    "attribution_text",
    "keep_allowed_links",
    "request_text",
]

log = logging.getLogger("clipinsight.generation")


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


# --- Answers ---------------------------------------------------------------------------------

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
    quotes: list[QuoteAnswer] = Field(min_length=1, max_length=15, description="The quotes, best first.")
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


# --- What a prompt is told about the job ----------------------------------------------------


def attribution_text(options: JobOptions) -> str:
    """Whose talk it is, as a rule for the model."""
    if options.own_talk:
        return "The talk is the creator's own: write in the creator's voice, in the first person."
    name = options.speaker
    return (
        f"The talk is by {name}, not by the creator. Write as the creator sharing {name}'s talk: attribute "
        f"the ideas and every quote to {name} by name, and never write as if the creator gave the talk "
        '(no "my talk", "my video", "I said").'
    )


def voice_text(voice: VoiceProfile | None, fence: Fence) -> str:
    """The workspace's voice profile as rules (its example posts fenced as data)."""
    if voice is None or voice.is_empty:
        return "No voice profile is set: write plainly, without hype."
    lines = [f"The creator's voice: {voice.description}" if voice.description else "The creator's voice:"]
    if voice.use_phrases:
        lines.append("Words and phrases the creator likes to use: " + "; ".join(f'"{p}"' for p in voice.use_phrases))
    if voice.avoid_phrases:
        lines.append("Never use these words or phrases: " + "; ".join(f'"{p}"' for p in voice.avoid_phrases))
    lines.append(_hashtag_rule(voice))
    if voice.sign_off:
        lines.append(f'End with this sign-off, as written: "{voice.sign_off}"')
    if voice.examples:
        examples = "\n---\n".join(voice.examples)
        lines.append(
            "Posts the creator wrote, for tone only (never copy their facts):\n" + fence.wrap("EXAMPLES", examples)
        )
    return "\n".join(lines)


def _hashtag_rule(voice: VoiceProfile) -> str:
    if voice.hashtag_policy == "none" or voice.max_hashtags == 0:
        return "Use no hashtags."
    if voice.hashtag_policy == "fixed":
        return f"Use exactly these hashtags, and no others: {' '.join(voice.hashtags[: voice.max_hashtags])}"
    return f"Use at most {voice.max_hashtags} hashtags, each a real word or two from the talk."


def _cta_link(options: JobOptions, voice: VoiceProfile | None) -> str | None:
    if options.cta_url:
        return options.cta_url
    links = find_links(voice.default_cta or "") if voice else []
    return links[0] if links else None


def allowed_links(options: JobOptions, voice: VoiceProfile | None) -> list[str]:
    """Links the creator supplied: the job's call to action and those of the voice profile."""
    links = [options.cta_url] if options.cta_url else []
    if voice is not None:
        links += find_links(voice.default_cta or "") + find_links(voice.sign_off or "")
    return links


def keep_allowed_links(draft: Draft, allowed: list[str], transcript: Transcript) -> tuple[Draft, list[str]]:
    """The draft without links that nobody supplied: a link stays when the creator gave it or
    the speaker said it (QA then lists it for an editor); any other is replaced by its words
    (Markdown) or removed. Returns the draft and the links removed."""
    said = {link.rstrip("/").lower() for link in find_links(transcript.text)}
    kept = {link.rstrip("/").lower() for link in allowed} | said
    removed: list[str] = []

    def clean(text: str) -> str:
        def markdown_link(match: re.Match) -> str:
            if match.group(2).rstrip("/").lower() in kept:
                return match.group(0)
            removed.append(match.group(2))
            return match.group(1)

        text = re.sub(r"\[([^\]\n]{1,200})\]\(([^)\s]{1,500})\)", markdown_link, text)
        for link in find_links(text):
            if link.rstrip("/").lower() not in kept and not any(link.lower() in k for k in kept):
                removed.append(link)
                text = text.replace(link, "")
        return re.sub(r"[ \t]{2,}", " ", text)

    if draft.posts:
        spec = formats.get(draft.format)
        cleaned = spec.with_posts(draft, [clean(p) for p in draft.posts])
    else:
        cleaned = draft.model_copy(update={"body": clean(draft.body)})
    return (cleaned if removed else draft), removed


# --- The provider -----------------------------------------------------------------------------


class LLMContentProvider:
    """Insights, drafts and the QA judge from one language model (through its adapter)."""

    capabilities = frozenset({INSIGHTS, DRAFTS, JUDGE, INSTRUCTIONS})

    def __init__(self, client: LLMClient):
        self.client = client
        self.name = client.name
        self.model = client.model

    @staticmethod
    def prompt_name(task: str) -> str | None:
        """The prompt file read for a task: ``insights``, ``draft_<format>`` or ``qa_judge``."""
        spec = formats.of_task(task)
        if spec is not None:
            return spec.prompt_name
        return task if task in ("insights", "qa_judge") else None

    def _ask(
        self, prompt: Prompt, values: dict, schema: type[BaseModel], context: dict | None = None, request: str = ""
    ) -> Structured:
        return ask(
            self.client,
            prompt.render("system", **values).strip(),
            prompt.render("user", **values) + request,
            schema,
            ModelParams.of(prompt.params),
            context=context,
        )

    def _provenance(self, prompt: Prompt, result: Structured) -> Provenance:
        return provenance(self.name, self.model, prompt, result)

    def insights(
        self, transcript: Transcript, options: JobOptions, *, prompt_version: str | None = None
    ) -> Generation[InsightPack]:
        prompt, fence = load_prompt("insights", prompt_version), Fence.new()
        values = {
            **prompt.params,
            "tone": options.tone,
            "duration": timestamp(transcript.duration),
            "attribution": attribution_text(options),
            "fence_id": fence.id,
            "transcript": fence.wrap("TRANSCRIPT", transcript_lines(transcript)),
        }
        result = self._ask(prompt, values, InsightsAnswer, context={"duration": transcript.duration})
        pack, report = ground_quotes(result.value.to_pack(), transcript)
        for repair in report.repaired:
            log.info("quote repaired to the transcript's words: %r -> %r", repair.before, repair.after)
        pack, dropped = _without_untrusted_quotes(pack)
        notes = (*reask_notes(result), report.summary(), *dropped)
        return Generation(pack, self._provenance(prompt, result), notes)

    def draft(
        self,
        fmt: str,
        transcript: Transcript,
        insights: InsightPack,
        options: JobOptions,
        *,
        prompt_version: str | None = None,
        voice: VoiceProfile | None = None,
        instruction: str | None = None,
    ) -> Generation[Draft]:
        spec = formats.get(fmt)
        prompt, fence = load_prompt(spec.prompt_name, prompt_version), Fence.new()
        cta = _cta_link(options, voice)
        values = {
            **prompt.params,
            "tone": options.tone,
            "cta": prompt.render("cta_given", cta_url=cta) if cta else prompt.render("cta_none"),
            "attribution": attribution_text(options),
            "voice": voice_text(voice, fence),
            "fence_id": fence.id,
            "post_limit": spec.post_room or "",
            "limits": spec.limits_text,
            "banned_phrases": "; ".join(f'"{p}"' for p in BANNED_PHRASES),
            "insights": fence.wrap("INSIGHTS", insights.model_dump_json(indent=1)),
            "transcript": fence.wrap("TRANSCRIPT", transcript_lines(transcript)),
        }
        context = {"cta_url": cta, "duration": transcript.duration}
        result = self._ask(prompt, values, spec.answer, context=context, request=request_text(instruction, fence))
        draft, removed = keep_allowed_links(
            result.value.to_draft(spec, options), allowed_links(options, voice), transcript
        )
        notes = reask_notes(result) + tuple(f"removed a link nobody supplied: {link}" for link in removed)
        return Generation(draft, self._provenance(prompt, result), notes)

    def judge(
        self, draft: Draft, transcript: Transcript, *, prompt_version: str | None = None
    ) -> Generation[list[JudgeScore]]:
        spec = formats.get(draft.format)
        prompt, fence = load_prompt("qa_judge", prompt_version), Fence.new()
        values = {
            "format": spec.label,
            "limits": spec.limits_text,
            "fence_id": fence.id,
            "draft": fence.wrap("DRAFT", f"{draft.title}\n\n{draft.text()}"),
            "transcript": fence.wrap("TRANSCRIPT", transcript_lines(transcript)),
        }
        result = self._ask(prompt, values, JudgeAnswer)
        return Generation(result.value.scores(), self._provenance(prompt, result), reask_notes(result))


def request_text(instruction: str | None, fence: Fence) -> str:
    """A creator's instruction as the end of a draft prompt's user turn: fenced and quoted as
    data, with what it may and may not change (empty when there is none)."""
    if not instruction:
        return ""
    quoted = fence.wrap("REQUEST", instruction)
    return "\n" + load_prompt("draft_request").render("request", fence_id=fence.id, request=quoted).rstrip() + "\n"


def _without_untrusted_quotes(pack: InsightPack) -> tuple[InsightPack, tuple[str, ...]]:
    """A quote is the speaker's words, but one that holds an instruction to an AI, markup or a
    link is not content to share: it is dropped, with a note."""
    kept = [q for q in pack.quotes if not holds_untrusted(q.text)]
    dropped = tuple(
        f"dropped a quote holding an instruction, markup or a link: {q.text[:80]!r}"
        for q in pack.quotes
        if q not in kept
    )
    return pack.model_copy(update={"quotes": kept}), dropped


def provenance(provider: str, model: str, prompt: Prompt, result: Structured) -> Provenance:
    """How an answer was made: the provider, model and prompt, its tokens, cost and time."""
    return Provenance(
        provider=provider,
        model=model,
        prompt_name=prompt.name,
        prompt_version=prompt.version,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        cost_usd=round(result.cost_usd, 6),
        latency_ms=round(result.latency_ms, 3),
    )


def reask_notes(result: Structured) -> tuple[str, ...]:
    """What the step should log about answers that were asked for again."""
    return tuple(f"the model's answer did not fit the schema ({problem}); asked again" for problem in result.problems)
