"""The offline content provider: extractive insights and drafts, with no network and no model.

Nothing here calls a service and nothing is random: the same transcript, options, voice and
prompt version give the same output. Insights come from :mod:`pipeline.extractive`; each draft
is composed by its format's spec from :class:`~pipeline.extractive.material.Material` — the
speaker's own lines, attributed, shared out so that no two drafts of a job repeat each other.
What it is not: a writer. It invents no sentences; glue text is a few words that name the
speaker or a theme. Point ClipInsight at an LLM for drafts that are written, not assembled.
"""

from __future__ import annotations

import time

from pipeline import defaults, formats
from pipeline.extractive.insights import extract_insights
from pipeline.extractive.instruction import Asks, read_instruction
from pipeline.extractive.material import Material
from pipeline.extractive.sentences import Sentence, rebuild_sentences
from pipeline.models import Draft, InsightPack, JudgeScore, Provenance, VoiceProfile
from pipeline.options import JobOptions
from pipeline.prompts import Prompt, load_prompt
from pipeline.providers.base import DRAFTS, INSIGHTS, INSTRUCTIONS, Generation
from pipeline.transcript import Transcript

__all__ = ["LocalContentProvider", "extract_insights", "compose_draft", "Sentence", "rebuild_sentences"]


def compose_draft(
    fmt: str,
    transcript: Transcript,
    insights: InsightPack,
    options: JobOptions,
    prompt: Prompt,
    voice: VoiceProfile | None = None,
    asks: Asks | None = None,
) -> Draft:
    """One draft of ``fmt`` composed offline from the talk's own lines, following what a
    creator's instruction asks that the offline writer can do (``asks``)."""
    spec, asks = formats.get(fmt), asks or Asks()
    prompt = prompt.model_copy(update={"params": {**prompt.params, **asks.params(spec)}})
    material = Material(transcript, insights, options, voice, prompt.params)
    draft = spec.compose(material, prompt)
    return spec.lead_with(draft, material.said(material.story)) if material.story else draft


def _tokens(words: int) -> int:
    return round(words * defaults.TOKENS_PER_WORD)


class LocalContentProvider:
    """Insights and drafts without a network or a model: extractive and deterministic."""

    name = "local"
    capabilities = frozenset({INSIGHTS, DRAFTS, INSTRUCTIONS})  # the common ones: see extractive.instruction

    def __init__(self, model: str = "extractive-v2"):
        self.model = model

    @staticmethod
    def prompt_name(task: str) -> str | None:
        """The prompt file read for a task; None for ``qa_judge`` (this provider has no judge)."""
        if task == "insights":
            return "local_insights"
        spec = formats.of_task(task)
        return spec.local_prompt_name if spec else None

    def insights(
        self, transcript: Transcript, options: JobOptions, *, prompt_version: str | None = None
    ) -> Generation[InsightPack]:
        started = time.perf_counter()
        prompt = load_prompt("local_insights", prompt_version)
        pack = extract_insights(transcript, prompt)
        return Generation(pack, self._provenance(prompt, started, transcript.word_count, _pack_words(pack)))

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
        started = time.perf_counter()
        prompt = load_prompt(formats.get(fmt).local_prompt_name, prompt_version)
        asks = read_instruction(instruction)
        draft = compose_draft(fmt, transcript, insights, options, prompt, voice, asks)
        provenance = self._provenance(prompt, started, _pack_words(insights), len(draft.text().split()))
        return Generation(draft, provenance, asks.notes())

    def judge(
        self, draft: Draft, transcript: Transcript, *, prompt_version: str | None = None
    ) -> Generation[list[JudgeScore]]:
        """The local provider has no judge (no JUDGE capability): no scores, so QA relies on
        its rule checks alone."""
        return Generation([], Provenance(provider=self.name, model=self.model))

    def _provenance(self, prompt: Prompt, started: float, words_in: int, words_out: int) -> Provenance:
        return Provenance(
            provider=self.name,
            model=self.model,
            prompt_name=prompt.name,
            prompt_version=prompt.version,
            tokens_in=_tokens(words_in),
            tokens_out=_tokens(words_out),
            cost_usd=0.0,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )


def _pack_words(pack: InsightPack) -> int:
    texts = [pack.title, pack.summary]
    texts += [f"{t.title} {t.summary} {' '.join(t.keywords)}" for t in pack.themes]
    texts += [q.text for q in pack.quotes] + [f"{o.title} {o.summary}" for o in pack.outline]
    return sum(len(text.split()) for text in texts)
