"""insights: themes, quotes tied to transcript times, and an outline."""

from __future__ import annotations

from pydantic import BaseModel

from pipeline.models import InsightPack, Transcript
from pipeline.providers import content_provider
from pipeline.steps.base import JobInfo, StepContext, StepOutputs
from pipeline.tasks import INSIGHTS, pinned_version


class Inputs(BaseModel):
    job: JobInfo
    transcript: Transcript
    prompt_versions: dict[str, str] = {}  # the run's pinned prompt versions


class Outputs(StepOutputs):
    insights: InsightPack


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    provider = content_provider(ctx.settings)
    version = ctx.params.get("prompt_version") or pinned_version(provider, INSIGHTS, inputs.prompt_versions)
    generation = provider.insights(inputs.transcript, inputs.job.options, prompt_version=version)
    ctx.record("insights", generation.provenance)
    for note in generation.notes:
        ctx.info(note)
    pack = generation.value
    ctx.info(f"{len(pack.themes)} themes, {len(pack.quotes)} quotes, {len(pack.outline)} outline items")
    return Outputs(insights=pack)
