"""draft:<format>: one draft per job and format; the formats of a job run in parallel.

A run that regenerates a draft (a creator pressed *Regenerate*) carries a request: only that
format fans out, the creator's instruction goes to the provider when it can follow one, and the
new version is recorded as regenerated, with the instruction, after the versions it replaces.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline import formats
from pipeline.models import Draft, InsightPack, Transcript, VoiceProfile
from pipeline.providers import INSTRUCTIONS, content_provider
from pipeline.steps.base import JobInfo, NotedDraft, RunRequest, StepContext, StepOutputs, reads, writes
from pipeline.tasks import draft_task, pinned_version


class Inputs(BaseModel):
    job: Annotated[JobInfo, reads.JOB]
    transcript: Annotated[Transcript, reads.artifact("transcript")]
    insights: Annotated[InsightPack, reads.artifact("insights")]
    prompt_versions: Annotated[dict[str, str], reads.PROMPT_PINS] = {}
    voice: Annotated[VoiceProfile | None, reads.VOICE] = None  # the workspace's voice, as pinned for the run
    request: Annotated[RunRequest | None, reads.RUN_REQUEST] = None  # a creator's regenerate, if this run is one


class Outputs(StepOutputs):
    draft: Annotated[Draft, writes.artifact("draft:{format}")]
    generated: Annotated[Draft | None, writes.draft_version("generated")] = None
    regenerated: Annotated[NotedDraft | None, writes.draft_version("regenerated")] = None


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    spec = formats.get(ctx.params["format"])
    provider = content_provider(ctx.settings)
    request = inputs.request or RunRequest()
    version = pinned_version(provider, draft_task(spec.name), inputs.prompt_versions)
    generation = provider.draft(
        spec.name,
        inputs.transcript,
        inputs.insights,
        inputs.job.options,
        prompt_version=version,
        voice=inputs.voice,
        **_instruction(ctx, provider, request),
    )
    ctx.record(spec.task, generation.provenance)
    for note in generation.notes:
        ctx.info(note)
    if inputs.voice is not None and inputs.voice.version:
        ctx.info(f"voice profile v{inputs.voice.version} of workspace {inputs.job.workspace}")
    ctx.info(f"{spec.label} drafted: {len(generation.value.text())} characters")
    if request.regenerates:
        return Outputs(draft=generation.value, regenerated=NotedDraft(draft=generation.value, note=request.note()))
    return Outputs(draft=generation.value, generated=generation.value)


def _instruction(ctx: StepContext, provider, request: RunRequest) -> dict:
    """The creator's instruction as the provider takes it (none for a provider that cannot follow one)."""
    if not request.instruction:
        return {}
    if INSTRUCTIONS not in provider.capabilities:
        ctx.warning(f"the {provider.name} provider cannot follow an instruction; regenerated without it")
        return {}
    ctx.info(f"instruction from the creator: {request.instruction!r}")
    return {"instruction": request.instruction}
