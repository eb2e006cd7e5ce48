"""insights: themes, quotes tied to transcript times, and an outline."""

from __future__ import annotations

from pydantic import BaseModel

from pipeline.models import InsightPack, Transcript
from pipeline.providers import content_provider
from pipeline.steps.base import JobInfo, StepContext, StepOutputs


class Inputs(BaseModel):
    job: JobInfo
    transcript: Transcript


class Outputs(StepOutputs):
    insights: InsightPack


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    provider = content_provider(ctx.settings)
    generation = provider.insights(inputs.transcript, inputs.job.options, prompt_version=ctx.params.get("prompt_version"))
    ctx.record("insights", generation.provenance)
    for note in generation.notes:
        ctx.info(note)
    pack = generation.value
    ctx.info(f"{len(pack.themes)} themes, {len(pack.quotes)} quotes, {len(pack.outline)} outline items")
    return Outputs(insights=pack)
