"""insights: themes, quotes tied to transcript times, and an outline. Once the pack exists its
title becomes the job's, unless the creator gave one or the video has its own."""

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
    job_title: Annotated[str | None, writes.job_field("title")] = None


#: Sources whose own title (the video page's) is the creator's: it stays the job's title.
TITLED_SOURCES = frozenset({"youtube"})


def _title_for(job: JobInfo, pack: InsightPack) -> str | None:
    """The creator's title wins, then a video page's own title; otherwise the pack's title
    replaces the one made from a file name."""
    if job.options.title:
        return job.options.title
    if (job.metadata or {}).get("kind") in TITLED_SOURCES:
        return None
    return pack.title.strip() or None


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    provider = content_provider(ctx.settings)
    version = ctx.params.get("prompt_version") or pinned_version(provider, INSIGHTS, inputs.prompt_versions)
    generation = provider.insights(inputs.transcript, inputs.job.options, prompt_version=version)
    ctx.record("insights", generation.provenance)
    for note in generation.notes:
        ctx.info(note)
    pack = generation.value
    ctx.info(f"{len(pack.themes)} themes, {len(pack.quotes)} quotes, {len(pack.outline)} outline items")
    return Outputs(insights=pack, job_title=_title_for(inputs.job, pack))
