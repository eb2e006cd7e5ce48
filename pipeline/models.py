"""Typed values that flow between steps and are stored as artifacts."""

from __future__ import annotations

from enum import Enum
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from pipeline.transcript import Segment, Transcript  # noqa: F401  (re-exported)

__all__ = [
    "DraftFormat",
    "JobOptions",
    "Provenance",
    "Theme",
    "Quote",
    "OutlineItem",
    "InsightPack",
    "Draft",
    "QACheck",
    "QAFix",
    "JudgeScore",
    "DraftReview",
    "QAReport",
    "Segment",
    "Transcript",
    "JobInfo",
    "WorkspaceInfo",
    "UsageRecord",
    "WebhookResult",
]


class DraftFormat(str, Enum):
    NEWSLETTER = "newsletter"
    BLOG = "blog"
    X_THREAD = "x_thread"
    LINKEDIN = "linkedin"

    @property
    def label(self) -> str:
        return FORMAT_LABELS[self]


FORMAT_LABELS = {
    DraftFormat.NEWSLETTER: "Newsletter",
    DraftFormat.BLOG: "Blog post",
    DraftFormat.X_THREAD: "X thread",
    DraftFormat.LINKEDIN: "LinkedIn post",
}

#: Platform limits the drafts and QA agree on.
X_POST_LIMIT = 280
LINKEDIN_LIMIT = 3000

TONES = ("friendly", "professional", "bold")


class JobOptions(BaseModel):
    """What the creator asked for at submission; part of the duplicate-submission key. Every
    entry (pages, CLI, API) builds one, so its validators are where the options' rules live."""

    formats: list[DraftFormat] = Field(default_factory=lambda: list(DraftFormat))
    tone: str = "friendly"
    cta_url: str | None = None

    @field_validator("formats")
    @classmethod
    def _formats_not_empty(cls, value: list[DraftFormat]) -> list[DraftFormat]:
        if not value:
            raise ValueError("choose at least one draft format")
        return sorted(set(value), key=list(DraftFormat).index)

    @field_validator("tone")
    @classmethod
    def _known_tone(cls, value: str) -> str:
        if value not in TONES:
            raise ValueError(f"tone must be one of {', '.join(TONES)}")
        return value

    @field_validator("cta_url")
    @classmethod
    def _cta_is_a_web_link(cls, value: str | None) -> str | None:
        """A call-to-action link goes into published drafts: an http(s) address with a host,
        without spaces or markup, or nothing."""
        value = (value or "").strip() or None
        if value is None:
            return None
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or "." not in (parts.hostname or "")
            or any(c in value for c in " <>\"'\n")
        ):
            raise ValueError("the call-to-action link must be a web address starting with https:// (or http://)")
        if len(value) > 500:
            raise ValueError("the call-to-action link is longer than 500 characters")
        return value


class Provenance(BaseModel):
    """Where an artifact came from, recorded with it."""

    provider: str
    model: str
    prompt_name: str | None = None
    prompt_version: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0


class Theme(BaseModel):
    title: str
    summary: str
    keywords: list[str] = Field(default_factory=list)


class Quote(BaseModel):
    text: str
    start: float
    end: float
    speaker: str | None = None
    theme: str | None = None


class OutlineItem(BaseModel):
    start: float
    title: str
    summary: str = ""


class InsightPack(BaseModel):
    title: str
    summary: str
    themes: list[Theme]
    quotes: list[Quote]
    outline: list[OutlineItem]


class Draft(BaseModel):
    """One draft. ``body`` is Markdown (or plain text for social posts); an X thread also
    keeps its posts separately so that limits apply per post."""

    format: DraftFormat
    title: str
    body: str
    posts: list[str] = Field(default_factory=list)

    def text(self) -> str:
        if self.format is DraftFormat.X_THREAD and self.posts:
            return "\n\n".join(self.posts)
        return self.body


class QACheck(BaseModel):
    name: str
    passed: bool
    severity: str = "warning"  # "info" | "warning" | "risk"
    reason: str = ""


class QAFix(BaseModel):
    check: str
    description: str
    before: str
    after: str


class JudgeScore(BaseModel):
    criterion: str
    score: int = Field(ge=0, le=10)
    reason: str


class DraftReview(BaseModel):
    format: DraftFormat
    score: int = Field(ge=0, le=100)
    checks: list[QACheck]
    fixes: list[QAFix] = Field(default_factory=list)
    judge: list[JudgeScore] = Field(default_factory=list)
    risk_flags: list[str] = Field(default_factory=list)
    requires_review: bool = False


class QAReport(BaseModel):
    threshold: int
    drafts: list[DraftReview]
    requires_review: bool
    summary: str


# --- What the runner gives steps and stores for them -------------------------------------


class JobInfo(BaseModel):
    job_id: str
    workspace: str
    source_kind: str
    source: str
    options: JobOptions
    title: str | None = None
    duration_s: float | None = None
    metadata: dict = {}


class WorkspaceInfo(BaseModel):
    name: str
    plan: str
    webhook_url: str | None = None
    #: Names the workspace's webhook signing secret (pipeline.signing); not the secret itself.
    webhook_key_id: str | None = None


class UsageRecord(BaseModel):
    minutes: float
    tokens_in: int
    tokens_out: int
    cost_usd: float


class WebhookResult(BaseModel):
    url: str
    event_id: str
    status: str  # sent | failed | refused (a non-public address: no request made) | skipped
    attempts: int
    response_code: int | None = None
    error: str | None = None
