"""The step registry: the implementation of each step the pipeline table names.

``pipeline.stages.PIPELINE`` says which module runs each stage; this module loads them and checks
that each declares its inputs and outputs (``pipeline.steps.io``). A fan-out stage's steps
(``draft:<format>``) share its module and get their value as a parameter. A step name the
registry does not know fails loudly (:class:`UnknownStep`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType

from pipeline.errors import ClipInsightError
from pipeline.stages import Pipeline, Stage, UnknownStage, load_pipeline
from pipeline.steps.io import Read, declared_reads, declared_writes

__all__ = ["StepSpec", "UnknownStep", "Registry", "registry_for"]


class UnknownStep(ClipInsightError):
    pass


@dataclass(frozen=True)
class StepSpec:
    name: str
    stage: Stage
    module: ModuleType | object
    params: Mapping = field(default_factory=dict)

    @property
    def timeout_s(self) -> int:
        return self.stage.timeout_s

    @property
    def reads(self) -> dict[str, Read]:
        return declared_reads(self.module.Inputs)


class Registry:
    """step name -> :class:`StepSpec`, for one pipeline table."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self._modules = {stage.name: _checked(stage) for stage in pipeline.stages}

    def __getitem__(self, step: str) -> StepSpec:
        try:
            stage = self.pipeline.stage_of(step)
        except UnknownStage:
            raise UnknownStep(
                f"no step named {step!r} is registered (stages: {', '.join(self.pipeline.names)})"
            ) from None
        params = stage.fan_out.params(step) if stage.fan_out else {}
        return StepSpec(step, stage, self._modules[stage.name], params)


def _checked(stage: Stage) -> ModuleType | object:
    module = stage.load()
    for needed in ("Inputs", "Outputs", "run"):
        if not hasattr(module, needed):
            raise UnknownStep(f"the {stage.name} step module has no {needed}")
    declared_reads(module.Inputs)  # raises when a field does not say where it comes from
    declared_writes(module.Outputs)
    return module


@lru_cache(maxsize=8)
def registry_for(dotted: str | None = None) -> Registry:
    """The registry of the configured pipeline (``CLIPINSIGHT_PIPELINE``; the default table)."""
    return Registry(load_pipeline(dotted))
