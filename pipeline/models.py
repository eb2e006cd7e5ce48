"""Typed values that flow between steps and are stored as artifacts."""

from __future__ import annotations

from enum import Enum

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
    """What the creator asked for at submission; part of the duplicate-submission key."""

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
