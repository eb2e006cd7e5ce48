"""deliver: write the export bundle, send the completion webhook once, log usage.
Moves the job DELIVERED -> STORED -> ANALYTICS_LOGGED."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from pipeline import export, signing, urlguard, webhooks
from pipeline.files import files_for
from pipeline.models import Draft, InsightPack, QAReport, Transcript
from pipeline.plans import estimate_minutes
from pipeline.steps.base import (
    JobInfo,
    StepContext,
    StepOutputs,
    UsageRecord,
    WebhookResult,
    WorkspaceInfo,
    reads,
    writes,
)


class Costs(BaseModel):
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class Inputs(BaseModel):
    job: Annotated[JobInfo, reads.JOB]
    workspace: Annotated[WorkspaceInfo, reads.WORKSPACE]
    transcript: Annotated[Transcript, reads.artifact("transcript")]
    insights: Annotated[InsightPack, reads.artifact("insights")]
    drafts: Annotated[dict[str, Draft], reads.DRAFTS]
    qa_report: Annotated[QAReport, reads.artifact("qa_report")]
    costs: Annotated[Costs, reads.COSTS]


class Delivery(BaseModel):
    bundle_dir: str
    files: list[str]
    webhook: WebhookResult | None = None


class Outputs(StepOutputs):
    delivery: Annotated[Delivery, writes.artifact("delivery")]
    usage: Annotated[UsageRecord, writes.RECORD]
    webhook: Annotated[WebhookResult | None, writes.RECORD] = None


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    job = inputs.job
    files = export.bundle_files(
        job={**job.model_dump(), "status": "DELIVERED"},
        transcript=inputs.transcript,
        insights=inputs.insights,
        drafts=inputs.drafts,
        qa_report=inputs.qa_report,
    )
    stored = files_for(ctx.settings)
    out_dir = stored.path(f"exports/{job.job_id}/bundle").parent
    for written in export.write_bundle(out_dir, files):  # sent to the storekeeper from another host
        stored.save(written)
    ctx.info(f"bundle written: {len(files)} files in {stored.key(out_dir)}")
    hook = _webhook(ctx, inputs) if inputs.workspace.webhook_url else None
    minutes = estimate_minutes(job.duration_s or inputs.transcript.duration)
    usage = UsageRecord(minutes=minutes, **inputs.costs.model_dump())
    delivery = Delivery(bundle_dir=stored.key(out_dir), files=sorted(files), webhook=hook)
    return Outputs(delivery=delivery, usage=usage, webhook=hook)


def _webhook(ctx: StepContext, inputs: Inputs) -> WebhookResult:
    url, event_id = inputs.workspace.webhook_url, ctx.run_id
    if not ctx.claim_once(f"webhook:{event_id}"):
        ctx.info("webhook already sent for this run; not sending again")
        return WebhookResult(url=url, event_id=event_id, status="skipped", attempts=0)
    payload = {
        "type": "job.completed",
        "job_id": inputs.job.job_id,
        "run_id": ctx.run_id,
        "title": inputs.job.title,
        "qa_score": min((d.score for d in inputs.qa_report.drafts), default=None),
        "drafts": sorted(inputs.drafts),
    }
    workspace = inputs.workspace
    secret = (
        signing.workspace_secret(ctx.settings, workspace.name, workspace.webhook_key_id)
        if workspace.webhook_key_id
        else None
    )
    guard = urlguard.ConnectionGuard(allow_private=ctx.settings.allow_private_urls)
    result = webhooks.send_event(url, event_id, payload, secret, guard=guard)
    level = "INFO" if result.status == "sent" else "WARNING"
    ctx.log(
        level,
        f"webhook {result.status} after {result.attempts} attempt(s)" + (f": {result.error}" if result.error else ""),
    )
    return result
