"""transcribe: cheapest source first — a provided transcript, then captions, then ASR — and a
quality gate that asks the creator for a transcript instead of shipping a bad one."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline import sources
from pipeline.models import Transcript
from pipeline.sources import SourceInfo
from pipeline.stages import JobStatus
from pipeline.steps.base import JobInfo, StepContext, StepOutputs, reads, writes
from pipeline.transcription import Quality, assess


class Inputs(BaseModel):
    job: Annotated[JobInfo, reads.JOB]
    source: Annotated[SourceInfo, reads.artifact("source")]
    provided_transcript: Annotated[Transcript | None, reads.artifact("provided_transcript")] = None


class Outputs(StepOutputs):
    transcript: Annotated[Transcript, writes.artifact("transcript")]
    transcript_quality: Annotated[Quality, writes.artifact("transcript_quality")]

    def job_status(self) -> tuple[JobStatus, str] | None:
        if self.transcript_quality.ok:
            return None
        return JobStatus.NEEDS_USER_INPUT, self.transcript_quality.reason


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    transcript = inputs.provided_transcript or _from_media(ctx, inputs)
    quality = assess(transcript, inputs.source.duration_s)
    verdict = "" if quality.ok else f"; {quality.reason}"
    ctx.info(f"transcript from {transcript.source}: {quality.words} words{verdict}")
    if transcript.encoding_note:
        ctx.info(transcript.encoding_note)
    return Outputs(transcript=transcript, transcript_quality=quality)


def _from_media(ctx: StepContext, inputs: Inputs) -> Transcript:
    return sources.transcribe(ctx, inputs.source)
