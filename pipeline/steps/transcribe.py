"""transcribe: cheapest source first — a provided transcript, then captions, then ASR — and a
quality gate that asks the creator for a transcript instead of shipping a bad one."""

from __future__ import annotations

from pydantic import BaseModel

from pipeline import defaults
from pipeline.models import Transcript
from pipeline.states import JobStatus
from pipeline.steps.base import JobInfo, StepContext, StepOutputs
from pipeline.steps.ingest import SourceInfo


class Inputs(BaseModel):
    job: JobInfo
    source: SourceInfo
    provided_transcript: Transcript | None = None


class Quality(BaseModel):
    ok: bool
    reason: str = ""
    words: int
    coverage: float | None = None  # transcript duration / media duration


class Outputs(StepOutputs):
    transcript: Transcript
    transcript_quality: Quality

    def job_status(self) -> tuple[JobStatus, str] | None:
        if self.transcript_quality.ok:
            return None
        return JobStatus.NEEDS_USER_INPUT, self.transcript_quality.reason


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    transcript = inputs.provided_transcript or _from_media(ctx, inputs)
    quality = assess(transcript, inputs.source.duration_s)
    ctx.info(f"transcript from {transcript.source}: {quality.words} words" + ("" if quality.ok else f"; {quality.reason}"))
    return Outputs(transcript=transcript, transcript_quality=quality)


def _from_media(ctx: StepContext, inputs: Inputs) -> Transcript:
    from pipeline import sources

    return sources.transcribe(ctx, inputs.source)


def assess(transcript: Transcript, media_duration: float | None) -> Quality:
    words = transcript.word_count
    if words < defaults.MIN_TRANSCRIPT_WORDS:
        return Quality(ok=False, words=words, reason=f"the transcript has only {words} words; please provide one")
    coverage = None
    if media_duration and transcript.source != "provided":
        coverage = transcript.duration / media_duration if media_duration else None
        if coverage is not None and coverage < 0.5:
            return Quality(ok=False, words=words, coverage=coverage,
                           reason=f"the transcript covers {coverage:.0%} of the media; please provide one")
    return Quality(ok=True, words=words, coverage=coverage)
