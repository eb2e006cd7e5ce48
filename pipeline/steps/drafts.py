"""draft:<format>: one draft per job and format; the formats of a job run in parallel."""

from __future__ import annotations

from pydantic import BaseModel

from pipeline import formats
from pipeline.models import Draft, InsightPack, Transcript, VoiceProfile
from pipeline.providers import content_provider
from pipeline.steps.base import JobInfo, StepContext, StepOutputs
from pipeline.tasks import draft_task, pinned_version


class Inputs(BaseModel):
    job: JobInfo
    transcript: Transcript
    insights: InsightPack
    prompt_versions: dict[str, str] = {}  # the run's pinned prompt versions
    voice: VoiceProfile | None = None  # the workspace's voice profile, as pinned for the run


class Outputs(StepOutputs):
    draft: Draft

    def artifacts(self) -> dict:
        return {formats.get(self.draft.format).task: self.draft}

    def new_drafts(self) -> list[tuple[Draft, str, str | None]]:
        return [(self.draft, "generated", None)]


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
