"""deliver: write the export bundle, send the completion webhook once, log usage.
Moves the job DELIVERED -> STORED -> ANALYTICS_LOGGED."""

from __future__ import annotations

from pydantic import BaseModel

from pipeline import export, signing, urlguard, webhooks
from pipeline.models import Draft, InsightPack, QAReport, Transcript
from pipeline.plans import estimate_minutes
from pipeline.steps.base import JobInfo, StepContext, StepOutputs, UsageRecord, WebhookResult, WorkspaceInfo


class Costs(BaseModel):
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


class Inputs(BaseModel):
    job: JobInfo
    workspace: WorkspaceInfo
    transcript: Transcript
    insights: InsightPack
    drafts: dict[str, Draft]
    qa_report: QAReport
    costs: Costs


class Delivery(BaseModel):
    bundle_dir: str
    files: list[str]
    webhook: WebhookResult | None = None


class Outputs(StepOutputs):
    delivery: Delivery
    usage: UsageRecord

    def artifacts(self) -> dict:
        return {"delivery": self.delivery}

    def records(self) -> list[BaseModel]:
        return [self.usage] + ([self.delivery.webhook] if self.delivery.webhook else [])


def run(ctx: StepContext, inputs: Inputs) -> Outputs:
    job = inputs.job
    files = export.bundle_files(
        job={**job.model_dump(), "status": "DELIVERED"},
        transcript=inputs.transcript,
        insights=inputs.insights,
        drafts=inputs.drafts,
        qa_report=inputs.qa_report,
    )
    out_dir = ctx.settings.exports_dir / job.job_id
    export.write_bundle(out_dir, files)
    ctx.info(f"bundle written: {len(files)} files in {out_dir}")
    hook = _webhook(ctx, inputs) if inputs.workspace.webhook_url else None
    minutes = estimate_minutes(job.duration_s or inputs.transcript.duration)
    usage = UsageRecord(minutes=minutes, **inputs.costs.model_dump())
    return Outputs(delivery=Delivery(bundle_dir=str(out_dir), files=sorted(files), webhook=hook), usage=usage)


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
