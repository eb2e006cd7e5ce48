"""The step registry and the shape of the pipeline.

Stages run in order; the ``drafts`` stage fans out to one step per requested format, and the
four draft steps run as parallel jobs joined before ``qa_review``. A step name the registry does
not know fails loudly (:class:`UnknownStep`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType

from pipeline import defaults, formats
from pipeline.errors import ClipInsightError, ErrorCode
from pipeline.models import JobOptions
from pipeline.states import JobStatus

__all__ = [
    "STAGES",
    "StepSpec",
    "UnknownStep",
    "REGISTRY",
    "load_registry",
    "stage_of",
    "steps_of_stage",
    "next_stage",
    "status_before",
    "stage_status",
]

STAGES = ("validate", "ingest", "transcribe", "insights", "drafts", "qa_review", "deliver")

#: The job status a stage leaves behind when it succeeds.
_STAGE_STATUS = {
    "validate": JobStatus.VALIDATED,
    "ingest": JobStatus.INGESTED,
    "transcribe": JobStatus.TRANSCRIBED,
    "insights": JobStatus.INSIGHTS,
    "drafts": JobStatus.DRAFTED,
    "qa_review": JobStatus.REVIEWED,
    "deliver": JobStatus.DELIVERED,
}


class UnknownStep(ClipInsightError):
    pass


@dataclass(frozen=True)
class StepSpec:
    name: str
    module: ModuleType
    failure_code: ErrorCode
    timeout_s: int = defaults.STEP_TIMEOUT_S
    params: Mapping = field(default_factory=dict)

    @property
    def stage(self) -> str:
        return stage_of(self.name)


def stage_of(step: str) -> str:
    return "drafts" if step.startswith("draft:") else step


def steps_of_stage(stage: str, options: JobOptions) -> list[str]:
    if stage == "drafts":
        return [formats.get(name).task for name in options.formats]
    if stage not in STAGES:
        raise UnknownStep(f"no stage named {stage!r} (stages: {', '.join(STAGES)})")
    return [stage]


def next_stage(stage: str) -> str | None:
    index = STAGES.index(stage)
    return STAGES[index + 1] if index + 1 < len(STAGES) else None


def stage_status(stage: str) -> JobStatus:
    return _STAGE_STATUS[stage]


def status_before(stage: str) -> JobStatus:
    """The status a job is in when ``stage`` starts (where a re-run rewinds it to)."""
    index = STAGES.index(stage)
    return JobStatus.RECEIVED if index == 0 else _STAGE_STATUS[STAGES[index - 1]]


def _build_default() -> dict[str, StepSpec]:
    from pipeline.steps import deliver, drafts, ingest, insights, qa_review, transcribe, validate

    specs = [
        StepSpec("validate", validate, ErrorCode.NETWORK_ERROR),
        StepSpec("ingest", ingest, ErrorCode.UPLOAD_FAILED, timeout_s=defaults.LONG_STEP_TIMEOUT_S),
        StepSpec("transcribe", transcribe, ErrorCode.TRANSCRIPTION_FAILED, timeout_s=defaults.LONG_STEP_TIMEOUT_S),
        StepSpec("insights", insights, ErrorCode.GENERATION_FAILED),
        *[
            StepSpec(spec.task, drafts, ErrorCode.GENERATION_FAILED, params={"format": spec.name})
            for spec in formats.specs()
        ],
        StepSpec("qa_review", qa_review, ErrorCode.GENERATION_FAILED),
        StepSpec("deliver", deliver, ErrorCode.NETWORK_ERROR),
    ]
    return {spec.name: spec for spec in specs}


class _Registry(dict):
    def __missing__(self, name: str) -> StepSpec:
        raise UnknownStep(f"no step named {name!r} is registered (known: {', '.join(sorted(self))})")


REGISTRY: Mapping[str, StepSpec] = _Registry(_build_default())


def load_registry(dotted: str) -> Mapping[str, StepSpec]:
    """``package.module:NAME`` -> a registry; benchmarks swap in no-op steps this way."""
    module_name, _, attribute = dotted.partition(":")
    module = importlib.import_module(module_name)
    registry = getattr(module, attribute or "REGISTRY")
    return registry if isinstance(registry, _Registry) else _Registry(registry)
