"""draft:<format>: one draft per job, four of these run in parallel."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline.models import Draft, DraftFormat, InsightPack, Transcript
from pipeline.providers import content_provider
from pipeline.steps.base import JobInfo, StepContext, StepOutputs, reads, writes
from pipeline.tasks import draft_task, pinned_version


class Inputs(BaseModel):
    job: Annotated[JobInfo, reads.JOB]
    transcript: Annotated[Transcript, reads.artifact("transcript")]
    insights: Annotated[InsightPack, reads.artifact("insights")]
    prompt_versions: Annotated[dict[str, str], reads.PROMPT_PINS] = {}


class Outputs(StepOutputs):
    draft: Annotated[Draft, writes.artifact("draft:{format}"), writes.draft_version("generated")]


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    fmt = DraftFormat(ctx.params["format"])
    provider = content_provider(ctx.settings)
    version = pinned_version(provider, draft_task(fmt), inputs.prompt_versions)
    generation = provider.draft(fmt, inputs.transcript, inputs.insights, inputs.job.options, prompt_version=version)
    ctx.record(f"draft:{fmt.value}", generation.provenance)
    for note in generation.notes:
        ctx.info(note)
    ctx.info(f"{fmt.label} drafted: {len(generation.value.text())} characters")
    return Outputs(draft=generation.value)
