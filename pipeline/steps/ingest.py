"""ingest: bring the source in. A provided transcript needs nothing; media (a download or an
upload) is fetched, checked against the plan once its length is known, and its audio extracted
by ``pipeline.sources``."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline import sources
from pipeline.models import Transcript
from pipeline.plans import estimate_minutes
from pipeline.sources import SourceInfo
from pipeline.steps.base import JobInfo, PlanStatus, StepContext, StepOutputs, reads, writes


class Inputs(BaseModel):
    job: Annotated[JobInfo, reads.JOB]
    plan: Annotated[PlanStatus | None, reads.PLAN] = None
    provided_transcript: Annotated[Transcript | None, reads.artifact("provided_transcript")] = None


class Outputs(StepOutputs):
    source: Annotated[SourceInfo, writes.artifact("source")]
    minutes: Annotated[float | None, writes.RESERVED_MINUTES] = None

    def job_fields(self) -> dict:
        meta = self.source.model_dump(exclude={"media_path", "audio_path", "captions_path"}, exclude_none=True)
        return {"title": self.source.title, "duration_s": self.source.duration_s, "metadata": meta}


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    job = inputs.job
    if job.source_kind == "transcript":
        transcript = inputs.provided_transcript
        title = _title_from_name(job.source)
        ctx.info(f"transcript ready: {transcript.word_count} words, {len(transcript.segments)} segments")
        return Outputs(source=SourceInfo(kind="transcript", title=title, duration_s=transcript.duration))
    source = sources.ingest(ctx, job, inputs.plan)
    return Outputs(source=source, minutes=estimate_minutes(source.duration_s) if source.duration_s else None)


def _title_from_name(name: str) -> str:
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem.replace("_", " ").replace("-", " ").strip().capitalize() or "Untitled"
