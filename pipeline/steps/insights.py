"""insights: themes, quotes tied to transcript times, and an outline."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline.models import InsightPack, Transcript
from pipeline.providers import content_provider
from pipeline.steps.base import JobInfo, StepContext, StepOutputs, reads, writes
from pipeline.tasks import INSIGHTS, pinned_version


class Inputs(BaseModel):
    job: Annotated[JobInfo, reads.JOB]
    transcript: Annotated[Transcript, reads.artifact("transcript")]
    prompt_versions: Annotated[dict[str, str], reads.PROMPT_PINS] = {}


class Outputs(StepOutputs):
    insights: Annotated[InsightPack, writes.artifact("insights")]


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
