"""The job state machine: statuses and the one table of allowed transitions.

Every status write goes through :func:`check_transition` (``pipeline.store.jobs`` calls it),
so an illegal move raises instead of corrupting a job.
"""

from __future__ import annotations

from enum import Enum

from pipeline.errors import ClipInsightError, ErrorCode


class JobStatus(str, Enum):
    RECEIVED = "RECEIVED"
    VALIDATED = "VALIDATED"
    INGESTED = "INGESTED"
    TRANSCRIBED = "TRANSCRIBED"
    INSIGHTS = "INSIGHTS"
    DRAFTED = "DRAFTED"
    REVIEWED = "REVIEWED"
    DELIVERED = "DELIVERED"
    STORED = "STORED"
    ANALYTICS_LOGGED = "ANALYTICS_LOGGED"
    FAILED = "FAILED"
    FAILED_VALIDATION = "FAILED_VALIDATION"
    BLOCKED_ENTITLEMENT = "BLOCKED_ENTITLEMENT"
    REQUIRES_MANUAL_REVIEW = "REQUIRES_MANUAL_REVIEW"
    NEEDS_USER_INPUT = "NEEDS_USER_INPUT"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def active(self) -> bool:
        return not self.terminal


S = JobStatus

#: The happy path, in order.
PROGRESS = (
    S.RECEIVED,
    S.VALIDATED,
    S.INGESTED,
    S.TRANSCRIBED,
    S.INSIGHTS,
    S.DRAFTED,
    S.REVIEWED,
    S.DELIVERED,
    S.STORED,
    S.ANALYTICS_LOGGED,
)

#: Statuses a job rests in until a person (or a re-run) moves it.
TERMINAL = frozenset(
    {
        S.ANALYTICS_LOGGED,
        S.FAILED,
        S.FAILED_VALIDATION,
        S.BLOCKED_ENTITLEMENT,
        S.REQUIRES_MANUAL_REVIEW,
        S.NEEDS_USER_INPUT,
    }
)


class Move(str, Enum):
    """Why a transition happens; some edges are only open to some kinds of move."""

    STEP = "step"  # a step finished or failed
    APPROVE = "approve"  # an editor approved flagged drafts
    REJECT = "reject"  # an editor rejected them
    PROVIDE = "provide"  # a creator provided the transcript the job waited for
    CANCEL = "cancel"  # a creator cancelled
    RERUN = "rerun"  # a new run restarts the job from an earlier step


def _step_edges() -> dict[JobStatus, set[JobStatus]]:
    edges = {status: set() for status in JobStatus}
    for here, nxt in zip(PROGRESS, PROGRESS[1:], strict=False):
        edges[here].add(nxt)
        if here is not S.ANALYTICS_LOGGED:
            edges[here].add(S.FAILED)
    edges[S.RECEIVED] |= {S.FAILED_VALIDATION, S.BLOCKED_ENTITLEMENT}
    edges[S.VALIDATED] |= {S.FAILED_VALIDATION, S.BLOCKED_ENTITLEMENT}  # ingest learns the length
    edges[S.INGESTED].add(S.NEEDS_USER_INPUT)  # transcription quality gate
    edges[S.DRAFTED].add(S.REQUIRES_MANUAL_REVIEW)  # QA flagged a draft
    return edges


#: (from, to) -> moves that may take that edge.
TRANSITIONS: dict[tuple[JobStatus, JobStatus], frozenset[Move]] = {}
for _here, _targets in _step_edges().items():
    for _to in _targets:
        TRANSITIONS[(_here, _to)] = frozenset({Move.STEP})
TRANSITIONS[(S.REQUIRES_MANUAL_REVIEW, S.REVIEWED)] = frozenset({Move.APPROVE})
TRANSITIONS[(S.REQUIRES_MANUAL_REVIEW, S.FAILED)] = frozenset({Move.REJECT})
TRANSITIONS[(S.NEEDS_USER_INPUT, S.INGESTED)] = frozenset({Move.PROVIDE})
for _status in JobStatus:
    if _status.active:
        TRANSITIONS.setdefault((_status, S.FAILED), frozenset())
        TRANSITIONS[(_status, S.FAILED)] |= {Move.CANCEL}
# A re-run goes back to the status a step starts from; only from a resting status.
for _here in TERMINAL:
    for _to in PROGRESS[:-1]:
        key = (_here, _to)
        TRANSITIONS[key] = TRANSITIONS.get(key, frozenset()) | {Move.RERUN}


#: Resting statuses a "retry" (a new run from the failed step) starts from.
RETRY_FROM = frozenset({S.FAILED, S.FAILED_VALIDATION, S.BLOCKED_ENTITLEMENT})


class IllegalTransition(ClipInsightError):
    pass


def check_transition(current: JobStatus, target: JobStatus, move: Move = Move.STEP) -> None:
    current, target = JobStatus(current), JobStatus(target)
    allowed = TRANSITIONS.get((current, target), frozenset())
    if Move(move) not in allowed:
        raise IllegalTransition(f"a job cannot go from {current.value} to {target.value} ({move.value})")


def failure_status(code: ErrorCode, step: str) -> JobStatus:
    """The terminal status a non-retryable (or exhausted) error leaves the job in."""
    if code is ErrorCode.QUOTA_EXCEEDED:
        return S.BLOCKED_ENTITLEMENT
    if code is ErrorCode.INVALID_INPUT and step in ("validate", "ingest"):
        return S.FAILED_VALIDATION
    return S.FAILED
