"""ingest: bring the source in. A provided transcript needs nothing; media (a download or an
upload) is fetched, checked against the plan once its length is known, and its audio extracted
by ``pipeline.sources``."""

from __future__ import annotations

from pydantic import BaseModel

from pipeline.models import Transcript
from pipeline.steps.base import JobInfo, PlanStatus, StepContext, StepOutputs


class Inputs(BaseModel):
    job: JobInfo
    plan: PlanStatus | None = None
    provided_transcript: Transcript | None = None


class SourceInfo(BaseModel):
    kind: str
    title: str
    duration_s: float | None = None
    channel: str | None = None
    upload_date: str | None = None
    thumbnail_url: str | None = None
    webpage_url: str | None = None
    media_path: str | None = None
    audio_path: str | None = None
    captions_path: str | None = None


class Outputs(StepOutputs):
    source: SourceInfo

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
    from pipeline import sources

    return Outputs(source=sources.ingest(ctx, job, inputs.plan))


def _title_from_name(name: str) -> str:
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return stem.replace("_", " ").replace("-", " ").strip().capitalize() or "Untitled"
