"""What a step is: typed inputs, typed outputs, and a ``run(ctx, inputs)`` function.

A step never opens DuckDB or Redis. The runner (``pipeline.runner``) loads the inputs a step
declares, calls ``run``, and saves what the outputs say in one transaction.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from pipeline.models import Draft, JobOptions, Provenance
from pipeline.plans import PlanStatus
from pipeline.settings import Settings
from pipeline.states import JobStatus
from pipeline.store import utcnow

__all__ = ["StepOutputs", "StepContext", "JobInfo", "PlanStatus", "WorkspaceInfo", "UsageRecord", "WebhookResult"]

logger = logging.getLogger("clipinsight.steps")


class JobInfo(BaseModel):
    job_id: str
    workspace: str
    source_kind: str
    source: str
    options: JobOptions
    title: str | None = None
    duration_s: float | None = None
    metadata: dict = {}
    plan_exempt: bool = False  # a bundled sample run: the plan does not cover or count it


class WorkspaceInfo(BaseModel):
    name: str
    plan: str
    webhook_url: str | None = None


class UsageRecord(BaseModel):
    minutes: float
    tokens_in: int
    tokens_out: int
    cost_usd: float


class WebhookResult(BaseModel):
    url: str
    event_id: str
    status: str  # sent | failed | skipped
    attempts: int
    response_code: int | None = None
    error: str | None = None


class StepOutputs(BaseModel):
    """Base of every step's outputs. Override the hooks to say how to persist them."""

    def artifacts(self) -> dict[str, BaseModel | str]:
        """kind -> value; each becomes an artifact keyed by (run, step, kind)."""
        return {name: getattr(self, name) for name in type(self).model_fields if getattr(self, name) is not None}

    def new_drafts(self) -> list[tuple[Draft, str, str | None]]:
        """(draft, source, note) to append as draft versions."""
        return []

    def job_status(self) -> tuple[JobStatus, str] | None:
        """A status other than the step's usual one (e.g. NEEDS_USER_INPUT), with the reason."""
        return None

    def job_fields(self) -> dict[str, Any]:
        """Fields of the job row to update (title, duration_s, metadata, qa_score)."""
        return {}

    def records(self) -> list[BaseModel]:
        """Other rows to store (usage, webhook deliveries)."""
        return []


@dataclass
class StepContext:
    """What a step may use besides its inputs: who it is, settings, logging, progress,
    providers, and a once-only guard for side effects such as webhooks."""

    job_id: str
    run_id: str
    step: str
    attempt: int
    settings: Settings
    params: dict = field(default_factory=dict)
    report_progress: Callable[[float], None] = lambda fraction: None
    claim_once: Callable[[str], bool] = lambda key: True
    log_lines: list[tuple] = field(default_factory=list)
    provenance: dict[str, Provenance] = field(default_factory=dict)

    def log(self, level: str, message: str) -> None:
        self.log_lines.append((self.job_id, self.run_id, self.step, self.attempt, utcnow(), level.upper(), message))
        logger.log(getattr(logging, level.upper(), logging.INFO), "%s %s: %s", self.run_id, self.step, message)

    def info(self, message: str) -> None:
        self.log("INFO", message)

    def warning(self, message: str) -> None:
        self.log("WARNING", message)

    def error(self, message: str, exc: BaseException | None = None) -> None:
        if exc is not None:
            message = f"{message}\n{''.join(traceback.format_exception(exc)).strip()}"
        self.log("ERROR", message)

    def progress(self, fraction: float) -> None:
        self.report_progress(max(0.0, min(1.0, fraction)))

    def record(self, kind: str, provenance: Provenance) -> None:
        self.provenance[kind] = provenance
