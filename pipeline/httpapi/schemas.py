"""What the HTTP API says, as pydantic models: the OpenAPI schema is generated from them and every
response is checked against them (schemathesis does, in the tests)."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field

from pipeline import formats

__all__ = [
    "DraftFormat",
    "ErrorBody",
    "ErrorResponse",
    "Submitted",
    "StepAttempt",
    "RunReport",
    "ArtifactInfo",
    "JobReport",
    "JobRow",
    "JobPage",
    "DraftVersion",
    "Drafts",
    "DraftEdit",
    "DraftSaved",
    "Decision",
    "Rerun",
    "JobMoved",
    "JobEvent",
]


#: The draft formats this version knows, from their specs (an enum, so OpenAPI lists them).
DraftFormat = Enum("DraftFormat", {name: name for name in formats.names()}, type=str)


class ErrorBody(BaseModel):
    code: str = Field(description="UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, INVALID_INPUT, ...")
    message: str = Field(description="What went wrong and what to change, for a person")
    field: str | None = Field(default=None, description="The input the error is about, when it is about one")
    current: DraftVersion | None = Field(default=None, description="On a draft conflict: the latest version")


class ErrorResponse(BaseModel):
    error: ErrorBody


class Submitted(BaseModel):
    job_id: str
    status: str
    duplicate: bool = Field(description="True: an earlier identical request (or Idempotency-Key) made this job")
    enqueued: bool


class StepAttempt(BaseModel):
    step: str
    status: str
    attempt: int
    error_code: str | None
    error_message: str | None
    started_at: str | None
    finished_at: str | None


class RunReport(BaseModel):
    run_id: str
    status: str
    start_step: str
    steps: list[StepAttempt]


class ArtifactInfo(BaseModel):
    kind: str
    format: str
    chars: int


class JobReport(BaseModel):
    job_id: str
    workspace: str
    status: str
    status_reason: str | None
    error_code: str | None
    title: str | None
    source: str
    submitted_by: str | None
    created_at: str | None
    qa_score: int | None
    progress: float | None = Field(description="0..1; null for a job that stopped short of delivery")
    now: str = Field(description="What the job runs or waits for right now")
    runs: list[RunReport]
    artifacts: list[ArtifactInfo]


class JobRow(BaseModel):
    job_id: str
    title: str | None
    status: str
    progress: float | None
    now: str
    source: str
    workspace: str
    created_at: str | None
    qa_score: int | None
    status_reason: str | None
    error_code: str | None


class JobPage(BaseModel):
    jobs: list[JobRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = Field(description="Jobs per status under the search text (not the status filter)")


class DraftVersion(BaseModel):
    format: DraftFormat
    version: int = Field(description="Send it back as If-Match to save over exactly this version")
    title: str
    body: str
    posts: list[str]
    source: str = Field(description="generated | autofix | edit | regenerated")
    author: str
    created_at: str | None


class Drafts(BaseModel):
    drafts: list[DraftVersion]


class DraftEdit(BaseModel):
    title: str = Field(default="", max_length=500)
    body: str = Field(max_length=100_000)
    posts: list[str] | None = Field(default=None, max_length=100, description="An X thread's posts")


class DraftSaved(BaseModel):
    format: DraftFormat
    version: int


class Decision(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=2000, description="Required to reject")


class Rerun(BaseModel):
    step: str = Field(max_length=100, description="The stage to regenerate, with everything after it")


class JobMoved(BaseModel):
    job_id: str
    status: str


class JobEvent(BaseModel):
    """The data of each ``status`` event of ``GET /api/jobs/{id}/events``."""

    job_id: str
    status: str
    status_reason: str | None
    error_code: str | None
    progress: float | None
    now: str
    terminal: bool


ErrorBody.model_rebuild()
