"""draft:<format>: one draft per job and format; the formats of a job run in parallel."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline import formats
from pipeline.models import Draft, InsightPack, Transcript, VoiceProfile
from pipeline.providers import content_provider
from pipeline.steps.base import JobInfo, StepContext, StepOutputs, reads, writes
from pipeline.tasks import draft_task, pinned_version


class Inputs(BaseModel):
    job: Annotated[JobInfo, reads.JOB]
    transcript: Annotated[Transcript, reads.artifact("transcript")]
    insights: Annotated[InsightPack, reads.artifact("insights")]
    prompt_versions: Annotated[dict[str, str], reads.PROMPT_PINS] = {}
    voice: Annotated[VoiceProfile | None, reads.VOICE] = None  # the workspace's voice, as pinned for the run


class Outputs(StepOutputs):
    draft: Annotated[Draft, writes.artifact("draft:{format}"), writes.draft_version("generated")]


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    spec = formats.get(ctx.params["format"])
    provider = content_provider(ctx.settings)
    version = pinned_version(provider, draft_task(spec.name), inputs.prompt_versions)
    generation = provider.draft(
        spec.name, inputs.transcript, inputs.insights, inputs.job.options, prompt_version=version, voice=inputs.voice
    )
    ctx.record(spec.task, generation.provenance)
    for note in generation.notes:
        ctx.info(note)
    if inputs.voice is not None and inputs.voice.version:
        ctx.info(f"voice profile v{inputs.voice.version} of workspace {inputs.job.workspace}")
    ctx.info(f"{spec.label} drafted: {len(generation.value.text())} characters")
    return Outputs(draft=generation.value)
