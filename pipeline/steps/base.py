"""What a step is: typed inputs, typed outputs, and a ``run(ctx, inputs)`` function.

A step never opens DuckDB or Redis. Its ``Inputs`` fields declare where each value comes from
and its ``Outputs`` fields where each goes (``pipeline.steps.io``); the runner loads the one and
saves the other in one transaction each.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from pipeline.context import StepContext
from pipeline.models import Draft, NotedDraft, UsageRecord, WebhookResult, WorkspaceInfo
from pipeline.options import JobInfo, RunRequest
from pipeline.plans import PlanStatus
from pipeline.stages import JobStatus
from pipeline.steps.io import declared_writes, reads, writes

__all__ = [
    "StepOutputs",
    "StepContext",
    "JobInfo",
    "NotedDraft",
    "RunRequest",
    "PlanStatus",
    "WorkspaceInfo",
    "UsageRecord",
    "WebhookResult",
    "reads",
    "writes",
]


class StepOutputs(BaseModel):
    """Base of every step's outputs: what its fields declare is what the runner stores."""

    def artifacts(self, params: dict | None = None) -> dict[str, BaseModel | str]:
        """kind -> value; each becomes an artifact keyed by (run, step, kind)."""
        return {
            write.artifact_kind(params or {}): value
            for name, value in self._declared("artifact")
            for write in declared_writes(type(self))[name]
            if write.target == "artifact"
        }

    def new_drafts(self) -> list[tuple[Draft, str, str | None]]:
        """(draft, source, note) to append as draft versions."""
        found = []
        for name, value in self._declared("draft_version"):
            for write in declared_writes(type(self))[name]:
                if write.target == "draft_version":
                    found += [_version(item, write) for item in _as_list(value)]
        return found

    def records(self) -> list[BaseModel]:
        """Other rows to store (usage, webhook deliveries)."""
        return [record for _, value in self._declared("record") for record in _as_list(value)]

    def reserved_minutes(self) -> float | None:
        """Plan minutes to hold for the job (checked again, atomically, when the step commits)."""
        found = [value for _, value in self._declared("reserve")]
        return max(found) if found else None

    def job_status(self) -> tuple[JobStatus, str] | None:
        """A status other than the stage's usual one (e.g. NEEDS_USER_INPUT), with the reason."""
        return None

    def job_fields(self) -> dict[str, Any]:
        """Fields of the job row to update (title, duration_s, metadata, qa_score)."""
        return {
            write.kind: value
            for name, value in self._declared("job_field")
            for write in declared_writes(type(self))[name]
            if write.target == "job_field"
        }

    def _declared(self, target: str) -> list[tuple[str, Any]]:
        found = []
        for name, marks in declared_writes(type(self)).items():
            value = getattr(self, name)
            if value is not None and any(mark.target == target for mark in marks):
                found.append((name, value))
        return found


def _version(item: Draft | NotedDraft, write) -> tuple[Draft, str, str | None]:
    """(draft, source, note) of a new version; a NotedDraft brings its own note."""
    if isinstance(item, NotedDraft):
        return item.draft, write.source, item.note or write.note
    return item, write.source, write.note


def _as_list(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]
