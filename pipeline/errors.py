"""Error codes, their classification, and the retry policy: the one place for both."""

from __future__ import annotations

import random
from enum import Enum

from pipeline import defaults


class ErrorCode(str, Enum):
    # Retryable: the same attempt may succeed later.
    UPLOAD_FAILED = "UPLOAD_FAILED"
    TRANSCRIPTION_FAILED = "TRANSCRIPTION_FAILED"
    GENERATION_FAILED = "GENERATION_FAILED"
    RATE_LIMITED = "RATE_LIMITED"
    TIMEOUT = "TIMEOUT"
    NETWORK_ERROR = "NETWORK_ERROR"
    #: The worker running the step disappeared (SIGKILL, OOM, host loss).
    WORKER_LOST = "WORKER_LOST"
    # Not retryable: retrying cannot change the answer.
    INVALID_INPUT = "INVALID_INPUT"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    API_KEY_INVALID = "API_KEY_INVALID"
    CONTENT_POLICY_VIOLATION = "CONTENT_POLICY_VIOLATION"
    #: Something that should not happen did (a bug): retrying would only repeat it.
    INTERNAL_ERROR = "INTERNAL_ERROR"
    #: A person ended the job (cancel, or an editor rejected its drafts).
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"

    @property
    def retryable(self) -> bool:
        return self in RETRYABLE


RETRYABLE = frozenset(
    {
        ErrorCode.UPLOAD_FAILED,
        ErrorCode.TRANSCRIPTION_FAILED,
        ErrorCode.GENERATION_FAILED,
        ErrorCode.RATE_LIMITED,
        ErrorCode.TIMEOUT,
        ErrorCode.NETWORK_ERROR,
        ErrorCode.WORKER_LOST,
    }
)


class ClipInsightError(Exception):
    """Base of every error the product raises on purpose; the message is for a person.

    ``DETAILS`` names the keyword arguments a subclass takes beyond the message: what a copy of
    the error needs when it crosses from the storekeeper to a client (``details()``)."""

    DETAILS: tuple[str, ...] = ()

    def details(self) -> dict:
        return {name: getattr(self, name) for name in self.DETAILS}


class StepError(ClipInsightError):
    """A step failed with a classified error code.

    ``retry_after`` lets a remote service (HTTP 429 Retry-After) ask for a longer wait than
    the backoff would give.
    """

    def __init__(self, code: ErrorCode, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"StepError({self.code.value}, {self.message!r})"


class InvalidInput(ClipInsightError):
    """Something the user gave us cannot be used; the message says what to change, ``field``
    (when known) which input it is about."""

    DETAILS = ("field",)

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field

    def about(self, field: str) -> InvalidInput:
        """The same error, said to be about ``field`` (unless it already names one)."""
        self.field = self.field or field
        return self


class QuotaExceeded(ClipInsightError):
    """The workspace's plan cannot take this job; the message says what to change."""


class NotFound(ClipInsightError):
    """An id that names nothing."""


class Conflict(ClipInsightError):
    """The thing changed since the caller read it (e.g. a draft saved by someone else).
    ``current`` may carry what is there now, so the caller can see what changed."""

    DETAILS = ("current",)

    def __init__(self, message: str, *, current: dict | None = None):
        super().__init__(message)
        self.current = current


class Refused(ClipInsightError):
    """The caller may not do this (``pipeline.access`` decided). ``record`` is the audit row the
    refusal leaves: who, what, where, why."""

    DETAILS = ("record",)

    def __init__(self, message: str, *, record: dict | None = None):
        super().__init__(message)
        self.record = record or {}


class Unauthenticated(Refused):
    """Nobody we know asks: no key, an unknown key or a revoked one."""


class Forbidden(Refused):
    """A known caller whose role in the workspace does not allow the action."""


class JobHidden(Refused, NotFound):
    """A job of a workspace the caller is not a member of: refused as if it did not exist, so
    no one learns which job ids exist elsewhere."""


def backoff_delay(failed_attempt: int, *, retry_after: float | None = None, rng=random) -> float:
    """Seconds to wait before the attempt after ``failed_attempt`` (1-based).

    1 s, 2 s, 4 s ... capped at 30 s, each +/- 20 % jitter so that many jobs failing together
    do not retry together. A server's Retry-After wins when it asks for longer.
    """
    base = defaults.RETRY_INITIAL_S * defaults.RETRY_FACTOR ** (failed_attempt - 1)
    base = min(base, defaults.RETRY_CAP_S)
    jitter = 1 + rng.uniform(-defaults.RETRY_JITTER, defaults.RETRY_JITTER)
    delay = min(base * jitter, defaults.RETRY_CAP_S)
    if retry_after is not None:
        delay = max(delay, min(retry_after, defaults.RETRY_CAP_S * 4))
    return delay


def should_retry(code: ErrorCode, failed_attempt: int) -> bool:
    return ErrorCode(code).retryable and failed_attempt < defaults.MAX_ATTEMPTS
