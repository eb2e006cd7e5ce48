"""The two provider interfaces: content (insights, drafts, judge) and speech recognition.

A provider says what it can do with capability flags; steps ask before they use a capability.
Every call returns a :class:`Generation`: the value and where it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar, runtime_checkable

from pipeline.models import Draft, InsightPack, JudgeScore, Provenance, Transcript, VoiceProfile
from pipeline.options import JobOptions

T = TypeVar("T")

#: Capability flags.
INSIGHTS = "insights"
DRAFTS = "drafts"
JUDGE = "judge"  # scores drafts against a rubric
#: Follows a creator's instruction for a regenerated draft ("shorter", "lead with the story"):
#: ``draft(..., instruction=...)``. Without it a draft is regenerated as it would be anyway.
INSTRUCTIONS = "instructions"
ASR = "asr"

ProgressFn = Callable[[float], None]


@dataclass(frozen=True)
class Generation(Generic[T]):
    value: T
    provenance: Provenance
    #: What the step should log about how the value was made (a re-asked answer, quotes
    #: repaired or dropped).
    notes: tuple[str, ...] = ()


@runtime_checkable
class ContentProvider(Protocol):
    name: str
    model: str
    capabilities: frozenset[str]

    def prompt_name(self, task: str) -> str | None: ...

    def insights(
        self, transcript: Transcript, options: JobOptions, *, prompt_version: str | None = None
    ) -> Generation[InsightPack]: ...

    def draft(
        self,
        fmt: str,
        transcript: Transcript,
        insights: InsightPack,
        options: JobOptions,
        *,
        prompt_version: str | None = None,
        voice: VoiceProfile | None = None,
        instruction: str | None = None,  # only for a provider with the INSTRUCTIONS capability
    ) -> Generation[Draft]: ...

    def judge(
        self, draft: Draft, transcript: Transcript, *, prompt_version: str | None = None
    ) -> Generation[list[JudgeScore]]: ...


@runtime_checkable
class SpeechRecognizer(Protocol):
    name: str
    model: str
    capabilities: frozenset[str]

    def transcribe(self, audio_path: Path, progress: ProgressFn | None = None) -> Generation[Transcript]: ...


def merge_provenance(items: list[Provenance]) -> Provenance:
    """One provenance for an artifact made by several calls: summed tokens, cost and time."""
    first = items[0]
    return first.model_copy(
        update={
            "tokens_in": sum(p.tokens_in for p in items),
            "tokens_out": sum(p.tokens_out for p in items),
            "cost_usd": sum(p.cost_usd for p in items),
            "latency_ms": sum(p.latency_ms for p in items),
        }
    )


def weighted_mean(values: list[tuple[float, float]]) -> float | None:
    """Mean of (value, weight) pairs; None when there is nothing to average."""
    total = sum(weight for _, weight in values)
    return round(sum(value * weight for value, weight in values) / total, 4) if total else None
