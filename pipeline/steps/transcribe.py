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
    confidence: float | None = None  # the recognizer's mean confidence, when a recognizer made it


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
    verdict = "" if quality.ok else f"; {quality.reason}"
    ctx.info(f"transcript from {transcript.source}: {quality.words} words{verdict}")
    if transcript.encoding_note:
        ctx.info(transcript.encoding_note)
    return Outputs(transcript=transcript, transcript_quality=quality)


def _from_media(ctx: StepContext, inputs: Inputs) -> Transcript:
    from pipeline import sources

    return sources.transcribe(ctx, inputs.source)


def assess(transcript: Transcript, media_duration: float | None) -> Quality:
    """Good enough to build on, or the reason to ask the creator for a transcript."""
    words = transcript.word_count
    if words < defaults.MIN_TRANSCRIPT_WORDS:
        return Quality(ok=False, words=words, reason=f"the transcript has only {words} words; please provide one")
    coverage = None
    if media_duration and transcript.source != "provided":
        coverage = round(transcript.duration / media_duration, 3)
        if coverage < defaults.MIN_TRANSCRIPT_COVERAGE:
            return Quality(
                ok=False,
                words=words,
                coverage=coverage,
                reason=f"the transcript covers {coverage:.0%} of the media; please provide one",
            )
    confidence = transcript.confidence
    if confidence is not None and confidence < defaults.MIN_ASR_CONFIDENCE:
        return Quality(
            ok=False,
            words=words,
            coverage=coverage,
            confidence=confidence,
            reason=f"the speech recognizer was unsure of most words (confidence {confidence:.0%}); "
            "please provide a transcript",
        )
    return Quality(ok=True, words=words, coverage=coverage, confidence=confidence)
