"""qa_review: rule checks and (when the provider can) a judge score per draft, auto-fix, and
the decision whether an editor must look first.

One judge call per draft. Each call retries its own transient failures in place (the one retry
policy: up to 5 tries within 90 s, Retry-After honoured, through the shared rate limiter), so a
429 or 503 on one draft costs that one call again, never the judge calls that succeeded; the step
itself fails only when one call has spent its whole budget. Each verdict is kept for the step's
later attempts (``ctx.remember``, keyed by the run, the draft's exact text and the judge's prompt
version and model), so the step's retry judges only the drafts still without one.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from pydantic import BaseModel

from pipeline import formats, qa
from pipeline.models import Draft, InsightPack, JudgeScore, Provenance, QAReport, Transcript, VoiceProfile
from pipeline.providers import JUDGE, content_provider
from pipeline.providers.base import merge_provenance
from pipeline.stages import JobStatus
from pipeline.steps.base import JobInfo, StepContext, StepOutputs, reads, writes
from pipeline.tasks import QA_JUDGE, pinned_version


class Inputs(BaseModel):
    job: Annotated[JobInfo, reads.JOB]
    transcript: Annotated[Transcript, reads.artifact("transcript")]
    insights: Annotated[InsightPack, reads.artifact("insights")]
    drafts: Annotated[dict[str, Draft], reads.DRAFTS]
    prompt_versions: Annotated[dict[str, str], reads.PROMPT_PINS] = {}
    voice: Annotated[VoiceProfile | None, reads.VOICE] = None  # the workspace's voice, as pinned for the run


class Outputs(StepOutputs):
    qa_report: Annotated[QAReport, writes.artifact("qa_report")]
    fixed: Annotated[list[Draft], writes.draft_version("autofix", "auto-fix by QA")] = []

    def job_status(self) -> tuple[JobStatus, str] | None:
        if not self.qa_report.requires_review:
            return None
        return JobStatus.REQUIRES_MANUAL_REVIEW, self.qa_report.summary

    def job_fields(self) -> dict:
        scores = [review.score for review in self.qa_report.drafts]
        return {"qa_score": min(scores)} if scores else {}


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    provider = content_provider(ctx.settings)
    judge = _judge(ctx, provider, inputs.transcript, pinned_version(provider, QA_JUDGE, inputs.prompt_versions))
    reviewed = qa.review_job(
        inputs.drafts,
        inputs.transcript,
        options=inputs.job.options,
        insights=inputs.insights,
        voice=inputs.voice,
        judge=judge,
        threshold=ctx.settings.qa_threshold,
    )
    for review, _ in reviewed:
        ctx.info(
            f"{formats.label(review.format)}: score {review.score}, {len(review.fixes)} fixes"
            + (f", flagged: {'; '.join(review.risk_flags)}" if review.risk_flags else "")
        )
    flags = qa.transcript_flags(inputs.transcript)
    for flag in flags:
        ctx.warning(f"transcript: {flag}")
    report = qa.build_report([review for review, _ in reviewed], ctx.settings.qa_threshold, flags)
    judged = [p for kind, p in ctx.provenance.items() if kind.startswith("judge:")]
    ctx.record("qa_report", merge_provenance(judged) if judged else Provenance(provider="rules", model="qa-rules"))
    return Outputs(qa_report=report, fixed=[after for review, after in reviewed if review.fixes])


def _judge(ctx: StepContext, provider, transcript: Transcript, version: str | None):
    """A function that judges one draft and records the call, or None without a judge."""
    if JUDGE not in provider.capabilities:
        return None

    def judge(draft: Draft):
        key = _verdict_key(ctx, provider, draft, version)
        kept = ctx.recall(key)
        if kept is not None:
            verdict = Verdict.model_validate_json(kept)
            ctx.record(f"judge:{draft.format}", verdict.provenance)  # paid once, by the attempt that asked
            ctx.info(f"{formats.label(draft.format)}: the judge's scores from attempt {verdict.attempt} kept")
            return verdict.scores
        generation = provider.judge(draft, transcript, prompt_version=version)
        ctx.record(f"judge:{draft.format}", generation.provenance)
        for note in generation.notes:
            ctx.info(note)
        ctx.remember(
            key,
            Verdict(scores=generation.value, provenance=generation.provenance, attempt=ctx.attempt).model_dump_json(),
        )
        return generation.value

    return judge


class Verdict(BaseModel):
    """A judge's answer on one draft, kept for the step's later attempts."""

    scores: list[JudgeScore]
    provenance: Provenance
    attempt: int


def _verdict_key(ctx: StepContext, provider, draft: Draft, version: str | None) -> str:
    text = f"{provider.name}\n{provider.model}\n{version}\n{draft.title}\n{draft.text()}"
    return f"judge:{ctx.run_id}:{draft.format}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"
