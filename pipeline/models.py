"""Typed values that flow between steps and are stored as artifacts."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from pipeline.transcript import Segment, Transcript  # noqa: F401  (re-exported)

__all__ = [
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
    "VoiceProfile",
    "HASHTAG_POLICIES",
    "Segment",
    "Transcript",
    "WorkspaceInfo",
    "UsageRecord",
    "WebhookResult",
]


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
    """Themes, quotes and outline of a talk. Quotes are listed best first (the first are the
    ones drafts should carry); the outline is in the order of the talk."""

    title: str
    summary: str
    themes: list[Theme]
    quotes: list[Quote]
    outline: list[OutlineItem]


class Draft(BaseModel):
    """One draft. ``body`` is Markdown or plain text (its format's spec says which); a thread
    also keeps its posts separately so that limits apply per post."""

    format: str  # a draft format's name (pipeline.formats)
    title: str
    body: str
    posts: list[str] = Field(default_factory=list)

    def text(self) -> str:
        return "\n\n".join(self.posts) if self.posts else self.body


class NotedDraft(BaseModel):
    """A draft with a note for the version it becomes ("regenerated: shorter")."""

    draft: Draft
    note: str | None = None


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
    format: str  # a draft format's name (pipeline.formats)
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
    #: What QA found in the transcript itself that an editor must see (injected instructions,
    #: promotional links), whether or not a draft repeats it.
    transcript_flags: list[str] = Field(default_factory=list)


HASHTAG_POLICIES = ("none", "from_talk", "fixed")


class VoiceProfile(BaseModel):
    """How a workspace sounds: what every provider writes toward and QA checks against.

    ``hashtag_policy``: ``none`` (no hashtags), ``from_talk`` (up to ``max_hashtags`` from the
    talk's own words) or ``fixed`` (the ``hashtags`` listed, always). ``default_cta`` is a line
    (it may hold a link) used when a job gives no call-to-action link of its own.
    """

    version: int = 0  # 0: not saved yet
    description: str = Field(default="", max_length=1000)
    examples: list[str] = Field(default_factory=list, max_length=5)
    use_phrases: list[str] = Field(default_factory=list, max_length=20)
    avoid_phrases: list[str] = Field(default_factory=list, max_length=50)
    default_cta: str | None = Field(default=None, max_length=300)
    hashtag_policy: str = "from_talk"
    hashtags: list[str] = Field(default_factory=list, max_length=10)
    max_hashtags: int = Field(default=3, ge=0, le=10)
    sign_off: str | None = Field(default=None, max_length=200)

    @field_validator("examples")
    @classmethod
    def _examples_fit(cls, value: list[str]) -> list[str]:
        kept = [example.strip() for example in value if example.strip()]
        if any(len(example) > 3000 for example in kept):
            raise ValueError("an example post may have at most 3,000 characters")
        return kept

    @field_validator("use_phrases", "avoid_phrases")
    @classmethod
    def _phrases(cls, value: list[str]) -> list[str]:
        kept = list(dict.fromkeys(" ".join(p.split()) for p in value if p.strip()))
        if any(len(p) > 80 for p in kept):
            raise ValueError("a phrase may have at most 80 characters")
        return kept

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = ["#" + tag.strip().lstrip("#") for tag in value if tag.strip().lstrip("#")]
        if any(not tag[1:].replace("_", "").isalnum() for tag in tags):
            raise ValueError("a hashtag is letters, digits or _ after the #")
        return list(dict.fromkeys(tags))

    @field_validator("hashtag_policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if value not in HASHTAG_POLICIES:
            raise ValueError(f"hashtag policy must be one of {', '.join(HASHTAG_POLICIES)}")
        return value

    @field_validator("default_cta", "sign_off", "description")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        return value.strip() if value else value

    @property
    def is_empty(self) -> bool:
        return self == VoiceProfile(version=self.version)


# --- What the runner gives steps and stores for them -------------------------------------


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
