"""qa_review: rule checks and (when the provider can) a judge score per draft, auto-fix, and
the decision whether an editor must look first."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline import qa
from pipeline.models import Draft, InsightPack, Provenance, QAReport, Transcript
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
    reviews, fixed = [], []
    judge_version = pinned_version(provider, QA_JUDGE, inputs.prompt_versions)
    for fmt, draft in sorted(inputs.drafts.items()):
        judge = _judge(ctx, provider, draft, inputs.transcript, judge_version)
        review, after = qa.review_draft(
            draft, inputs.transcript, options=inputs.job.options, judge=judge, threshold=ctx.settings.qa_threshold
        )
        reviews.append(review)
        if review.fixes:
            fixed.append(after)
        ctx.info(
            f"{fmt}: score {review.score}, {len(review.fixes)} fixes"
            + (f", flagged: {'; '.join(review.risk_flags)}" if review.risk_flags else "")
        )
    report = qa.build_report(reviews, ctx.settings.qa_threshold)
    judged = [p for kind, p in ctx.provenance.items() if kind.startswith("judge:")]
    ctx.record("qa_report", merge_provenance(judged) if judged else Provenance(provider="rules", model="qa-rules"))
    return Outputs(qa_report=report, fixed=fixed)


def _judge(ctx: StepContext, provider, draft: Draft, transcript: Transcript, version: str | None):
    if JUDGE not in provider.capabilities:
        return None
    generation = provider.judge(draft, transcript, prompt_version=version)
    ctx.record(f"judge:{draft.format.value}", generation.provenance)
    return generation.value
