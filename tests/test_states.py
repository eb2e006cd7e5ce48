"""The state machine and the retry policy: the rules every status write and retry follow."""

from __future__ import annotations

import random

import pytest

from pipeline.errors import ErrorCode, backoff_delay, should_retry
from pipeline.states import PROGRESS, IllegalTransition, JobStatus, Move, check_transition, failure_status

S = JobStatus


def test_the_happy_path_is_allowed_in_order_only():
    for here, nxt in zip(PROGRESS, PROGRESS[1:], strict=False):
        check_transition(here, nxt)
    with pytest.raises(IllegalTransition, match="RECEIVED to INSIGHTS"):
        check_transition(S.RECEIVED, S.INSIGHTS)
    with pytest.raises(IllegalTransition):
        check_transition(S.DRAFTED, S.INSIGHTS)


def test_terminal_statuses_only_move_by_a_person_or_a_rerun():
    for status in (S.ANALYTICS_LOGGED, S.FAILED, S.FAILED_VALIDATION, S.BLOCKED_ENTITLEMENT):
        assert status.terminal
        with pytest.raises(IllegalTransition):
            check_transition(status, S.RECEIVED, Move.STEP)
        check_transition(status, S.INSIGHTS, Move.RERUN)


def test_human_exits():
    check_transition(S.REQUIRES_MANUAL_REVIEW, S.REVIEWED, Move.APPROVE)
    check_transition(S.REQUIRES_MANUAL_REVIEW, S.FAILED, Move.REJECT)
    check_transition(S.NEEDS_USER_INPUT, S.INGESTED, Move.PROVIDE)
    with pytest.raises(IllegalTransition):
        check_transition(S.REQUIRES_MANUAL_REVIEW, S.REVIEWED, Move.STEP)  # only an editor approves
    with pytest.raises(IllegalTransition):
        check_transition(S.NEEDS_USER_INPUT, S.TRANSCRIBED, Move.STEP)


def test_gates_lead_to_their_terminals():
    check_transition(S.INGESTED, S.NEEDS_USER_INPUT)
    check_transition(S.DRAFTED, S.REQUIRES_MANUAL_REVIEW)
    check_transition(S.RECEIVED, S.BLOCKED_ENTITLEMENT)
    with pytest.raises(IllegalTransition):
        check_transition(S.INSIGHTS, S.REQUIRES_MANUAL_REVIEW)


def test_cancel_only_while_active():
    check_transition(S.TRANSCRIBED, S.FAILED, Move.CANCEL)
    with pytest.raises(IllegalTransition):
        check_transition(S.ANALYTICS_LOGGED, S.FAILED, Move.CANCEL)


def test_error_codes_pick_the_terminal_status():
    assert failure_status(ErrorCode.QUOTA_EXCEEDED, "validate") is S.BLOCKED_ENTITLEMENT
    assert failure_status(ErrorCode.INVALID_INPUT, "validate") is S.FAILED_VALIDATION
    assert failure_status(ErrorCode.INVALID_INPUT, "drafts") is S.FAILED
    assert failure_status(ErrorCode.API_KEY_INVALID, "insights") is S.FAILED


def test_backoff_grows_doubles_caps_and_jitters():
    rng = random.Random(7)
    delays = [[backoff_delay(n, rng=rng) for n in range(1, 8)] for _ in range(200)]
    for n, expected in enumerate([1, 2, 4, 8, 16, 30, 30]):
        column = [row[n] for row in delays]
        assert min(column) >= expected * 0.8 - 1e-9 and max(column) <= min(expected * 1.2, 30) + 1e-9
        assert len(set(column)) > 50  # jitter: retries of many jobs spread out
    assert backoff_delay(1, retry_after=12, rng=rng) == 12


def test_retry_budget_and_classification():
    assert should_retry(ErrorCode.RATE_LIMITED, 1) and should_retry(ErrorCode.TIMEOUT, 2)
    assert not should_retry(ErrorCode.TIMEOUT, 3)  # three attempts in all
    for code in (
        ErrorCode.INVALID_INPUT,
        ErrorCode.QUOTA_EXCEEDED,
        ErrorCode.API_KEY_INVALID,
        ErrorCode.CONTENT_POLICY_VIOLATION,
    ):
        assert not should_retry(code, 1)
