"""The words a person reads for the product's codes: job statuses as plain words with an icon,
steps as what they do, error codes as reasons, lengths as m:ss / h:mm:ss, and moments in the
viewer's time zone.

The codes stay the truth: the database, the API and the CLI speak them, and the UI shows them
in tooltips. This module is the one place that turns them into words; every status and error
code has words here (a test holds that), so a new code cannot reach a page as a bare code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline import formats
from pipeline.errors import ErrorCode
from pipeline.settings import get_settings
from pipeline.stages import JobStatus, UnknownStage, load_pipeline

__all__ = [
    "StatusWords",
    "STATUS_WORDS",
    "status_words",
    "status_text",
    "status_legend",
    "status_labels",
    "statuses_labelled",
    "step_words",
    "reason_words",
    "duration",
    "viewer_zone",
    "local_time",
    "local_date",
]


@dataclass(frozen=True)
class StatusWords:
    label: str  # what a creator reads: "Writing drafts"
    icon: str  # a Material icon for badges and headings
    symbol: str  # a plain character for table cells (drawn on a canvas, without the icon font)
    color: str  # a badge colour: blue, green, orange, red, violet, gray
    meaning: str  # one sentence for tooltips and legends


S = JobStatus


def _working(label: str, meaning: str) -> StatusWords:
    return StatusWords(label, ":material/progress_activity:", "⟳", "blue", meaning)


_DELIVERING = _working("Delivering", "building the bundle and sending notifications")

STATUS_WORDS: dict[JobStatus, StatusWords] = {
    S.RECEIVED: StatusWords("Queued", ":material/schedule:", "◷", "gray", "waiting for a worker to pick it up"),
    S.VALIDATED: _working("Preparing", "fetching the video or reading the upload"),
    S.INGESTED: _working("Transcribing", "turning speech into a transcript"),
    S.TRANSCRIBED: _working("Finding insights", "finding themes, quotes and an outline"),
    S.INSIGHTS: _working("Writing drafts", "writing the drafts"),
    S.DRAFTED: _working("Checking drafts", "quality checks on every draft"),
    S.REVIEWED: _DELIVERING,
    S.DELIVERED: _DELIVERING,
    S.STORED: _DELIVERING,
    S.ANALYTICS_LOGGED: StatusWords("Done", ":material/check_circle:", "✓", "green", "the drafts are ready"),
    S.REQUIRES_MANUAL_REVIEW: StatusWords(
        "In review", ":material/rate_review:", "⚑", "orange", "an editor checks the drafts QA flagged"
    ),
    S.NEEDS_USER_INPUT: StatusWords(
        "Needs your transcript",
        ":material/edit_note:",
        "✎",
        "violet",
        "the transcript from the audio was not good enough",
    ),
    S.FAILED: StatusWords("Failed", ":material/error:", "✗", "red", "stopped with an error"),
    S.FAILED_VALIDATION: StatusWords("Failed", ":material/error:", "✗", "red", "the source cannot be used"),
    S.BLOCKED_ENTITLEMENT: StatusWords("Over your plan", ":material/block:", "⊘", "red", "the plan does not cover it"),
}

#: A failed job a person ended reads as what they did.
_ENDED_BY_A_PERSON = {
    ErrorCode.CANCELLED.value: StatusWords("Cancelled", ":material/cancel:", "⊘", "gray", "cancelled by a person"),
    ErrorCode.REJECTED.value: StatusWords(
        "Rejected", ":material/thumb_down:", "✗", "red", "an editor rejected the drafts"
    ),
}

_REASONS: dict[ErrorCode, str] = {
    ErrorCode.UPLOAD_FAILED: "The download or upload failed",
    ErrorCode.TRANSCRIPTION_FAILED: "Transcription failed",
    ErrorCode.GENERATION_FAILED: "The writing model failed",
    ErrorCode.RATE_LIMITED: "A provider limited requests",
    ErrorCode.TIMEOUT: "A step took too long",
    ErrorCode.NETWORK_ERROR: "The network was unreachable",
    ErrorCode.WORKER_LOST: "A worker stopped mid-step",
    ErrorCode.INVALID_INPUT: "The source could not be used",
    ErrorCode.QUOTA_EXCEEDED: "Over the plan's minutes",
    ErrorCode.API_KEY_INVALID: "The API key was refused",
    ErrorCode.CONTENT_POLICY_VIOLATION: "Blocked by a content policy",
    ErrorCode.CANCELLED: "Cancelled by a person",
    ErrorCode.REJECTED: "Rejected by an editor",
    ErrorCode.INTERNAL_ERROR: "A fault in ClipInsight itself (not retried)",
}


def status_words(status: str | JobStatus, error_code: str | None = None) -> StatusWords:
    """The words for a job's status; a failed job a person ended reads as cancelled or rejected."""
    status = JobStatus(status)
    if status is S.FAILED and error_code in _ENDED_BY_A_PERSON:
        return _ENDED_BY_A_PERSON[error_code]
    return STATUS_WORDS[status]


def status_text(status: str | JobStatus, error_code: str | None = None, approved_by: str | None = None) -> str:
    """A table cell: symbol and label, and who approved the drafts when an editor did."""
    words = status_words(status, error_code)
    text = f"{words.symbol} {words.label}"
    return f"{text} · approved by {approved_by}" if approved_by else text


def status_legend() -> str:
    """Every label with its code, for a column's tooltip."""
    seen: dict[str, list[str]] = {}
    for status, words in STATUS_WORDS.items():
        seen.setdefault(f"{words.symbol} {words.label}", []).append(status.value)
    for code, words in _ENDED_BY_A_PERSON.items():
        seen.setdefault(f"{words.symbol} {words.label}", []).append(f"FAILED ({code})")
    return "  \n".join(f"{label}: {', '.join(codes)}" for label, codes in seen.items())


def status_labels() -> list[str]:
    """The labels a status filter offers, in the order a job meets them."""
    return list(dict.fromkeys(words.label for words in STATUS_WORDS.values()))


def statuses_labelled(labels: list[str]) -> list[str]:
    """The status codes behind these labels (a filter by words becomes a filter by codes)."""
    return [status.value for status, words in STATUS_WORDS.items() if words.label in labels]


def step_words(step: str) -> str:
    """What a step does, from the pipeline table: ``transcribe`` -> ``transcribing``, a draft
    step -> ``writing drafts: X thread`` (the format's label)."""
    try:
        stage = load_pipeline(get_settings().pipeline).stage_of(step)
    except UnknownStage:
        return step.replace("_", " ")
    doing = stage.activity[:1].lower() + stage.activity[1:]
    if not stage.fan_out or step == stage.name:  # the stage itself, not one of its steps
        return doing
    value = stage.fan_out.params(step)[stage.fan_out.param]
    try:
        value = formats.label(value)
    except ValueError:  # not a format (another fan-out), or one this version does not know
        value = value.replace("_", " ")
    return f"{doing}: {value}"


def reason_words(code: str | None) -> str:
    """An error code as a reason a person understands (the code itself when it is new here)."""
    if not code:
        return "Unknown"
    try:
        return _REASONS[ErrorCode(code)]
    except (ValueError, KeyError):
        return code.replace("_", " ").capitalize()


def duration(seconds: float | None) -> str:
    """1:05 for a minute and five seconds, 1:00:06 past the hour; a dash when unknown."""
    if seconds is None or seconds != seconds:  # None or NaN
        return "—"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def viewer_zone(name: str | None) -> ZoneInfo:
    """The viewer's time zone from the browser's name for it; UTC when unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the store keeps UTC, naive
    return aware.astimezone(zone)


def local_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """``Mar 14, 2026 14:05`` in the viewer's zone; a dash when unknown."""
    if moment is None:
        return "—"
    local = _local(moment, zone)
    return f"{local:%b} {local.day}, {local:%Y %H:%M}"


def local_date(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "—"
    local = _local(moment, zone)
    return f"{local:%b} {local.day}, {local:%Y}"
