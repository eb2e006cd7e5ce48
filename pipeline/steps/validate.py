"""validate: the input has the right shape, the source is allowed, the plan covers it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline import defaults
from pipeline.errors import ErrorCode, StepError
from pipeline.models import Transcript
from pipeline.plans import check_quota, estimate_minutes
from pipeline.sources import check_source
from pipeline.steps.base import JobInfo, PlanStatus, StepContext, StepOutputs, reads, writes


class Inputs(BaseModel):
    job: Annotated[JobInfo, reads.JOB]
    plan: Annotated[PlanStatus, reads.PLAN]
    provided_transcript: Annotated[Transcript | None, reads.artifact("provided_transcript")] = None


class ValidationReport(BaseModel):
    source_kind: str
    duration_s: float | None
    words: int | None = None


class Outputs(StepOutputs):
    validation: Annotated[ValidationReport, writes.artifact("validation")]
    minutes: Annotated[float | None, writes.RESERVED_MINUTES] = None


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    job = inputs.job
    if job.source_kind == "transcript":
        report = _validate_transcript(inputs.provided_transcript)
    else:
        report = _validate_source(ctx, job)
    if report.duration_s and not job.plan_exempt:
        check_quota(inputs.plan, report.duration_s)
    ctx.info(f"{job.source_kind} accepted" + (f", {report.duration_s / 60:.1f} min" if report.duration_s else ""))
    minutes = estimate_minutes(report.duration_s) if report.duration_s else None
    return Outputs(validation=report, minutes=minutes)


def _validate_transcript(transcript: Transcript | None) -> ValidationReport:
    if transcript is None:
        raise StepError(ErrorCode.INVALID_INPUT, "the transcript for this job is missing")
    if transcript.word_count < defaults.MIN_TRANSCRIPT_WORDS:
        raise StepError(
            ErrorCode.INVALID_INPUT,
            f"the transcript has {transcript.word_count} words; at least {defaults.MIN_TRANSCRIPT_WORDS} are needed "
            "to make a content pack",
        )
    return ValidationReport(source_kind="transcript", duration_s=transcript.duration, words=transcript.word_count)


def _validate_source(ctx: StepContext, job: JobInfo) -> ValidationReport:
    duration = check_source(job.source_kind, job.source, ctx.settings)
    return ValidationReport(source_kind=job.source_kind, duration_s=duration or job.duration_s)
