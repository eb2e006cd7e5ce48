"""The pipeline table, the state machine derived from it, and the retry policy: the rules every
status write and retry follow."""

from __future__ import annotations

import random

import pytest

from pipeline.errors import ErrorCode, backoff_delay, should_retry
from pipeline.stages import (
    FAILED,
    PIPELINE,
    PROGRESS,
    TERMINAL,
    WAITING,
    IllegalTransition,
    JobStatus,
    Move,
    Stage,
    UnknownStage,
    check_transition,
)
from pipeline.steps import UnknownStep, registry_for
from pipeline.steps.io import UndeclaredField

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
    assert PIPELINE.failure_status(ErrorCode.QUOTA_EXCEEDED, "validate") is S.BLOCKED_ENTITLEMENT
    assert PIPELINE.failure_status(ErrorCode.QUOTA_EXCEEDED, "ingest") is S.BLOCKED_ENTITLEMENT
    assert PIPELINE.failure_status(ErrorCode.INVALID_INPUT, "validate") is S.FAILED_VALIDATION
    assert PIPELINE.failure_status(ErrorCode.INVALID_INPUT, "draft:blog") is S.FAILED
    assert PIPELINE.failure_status(ErrorCode.API_KEY_INVALID, "insights") is S.FAILED
    assert PIPELINE.failure_status(ErrorCode.INTERNAL_ERROR, "deliver") is S.FAILED


def test_status_sets_come_from_the_table():
    assert PROGRESS[0] is S.RECEIVED and PROGRESS[-1] is S.ANALYTICS_LOGGED
    assert {S.FAILED, S.FAILED_VALIDATION, S.BLOCKED_ENTITLEMENT} == FAILED
    assert {S.REQUIRES_MANUAL_REVIEW, S.NEEDS_USER_INPUT} == WAITING
    assert FAILED | WAITING | {S.ANALYTICS_LOGGED} == TERMINAL


def test_people_resume_where_the_table_says():
    stage, status, move = PIPELINE.resume_point(S.REQUIRES_MANUAL_REVIEW)
    assert (stage.name, status, move) == ("deliver", S.REVIEWED, Move.APPROVE)
    stage, status, move = PIPELINE.resume_point(S.NEEDS_USER_INPUT)
    assert (stage.name, status, move) == ("transcribe", S.INGESTED, Move.PROVIDE)
    assert PIPELINE.status_before("validate") is S.RECEIVED
    assert PIPELINE.status_before("deliver") is S.REVIEWED
    with pytest.raises(UnknownStage, match="choose one of validate, ingest"):
        PIPELINE.stage("translate")


def test_fan_out_steps_and_their_stage():
    class Options:
        formats = ["linkedin", "x_thread"]

    assert PIPELINE.steps_of("drafts", Options()) == ["draft:linkedin", "draft:x_thread"]
    assert PIPELINE.stage_of("draft:linkedin").name == "drafts"
    assert PIPELINE.step_order(Options())[3:6] == ["insights", "draft:linkedin", "draft:x_thread"]
    assert registry_for()["draft:x_thread"].params == {"format": "x_thread"}
    with pytest.raises(UnknownStep):
        registry_for()["translate"]


def test_progress_weighs_stages_and_the_running_share():
    start = PIPELINE.progress(None, 0.0, S.RECEIVED)
    halfway_transcribing = PIPELINE.progress("transcribe", 0.5, S.INGESTED)
    drafting = PIPELINE.progress("draft:blog", 0.0, S.INSIGHTS)
    assert start == 0.0 < halfway_transcribing < drafting < PIPELINE.progress(None, 0, S.ANALYTICS_LOGGED) == 1.0


def test_a_stage_without_a_status_of_its_own_keeps_the_machine_as_it_is():
    extra = Stage("translate", "pipeline.steps.insights", None, "Translating")
    longer = PIPELINE.insert_after("insights", extra)
    assert longer.progress_statuses() == PROGRESS
    assert longer.transitions() == PIPELINE.transitions()
    assert longer.status_before("translate") is S.INSIGHTS and longer.status_before("drafts") is S.INSIGHTS
    assert longer.next("insights").name == "translate"


def test_a_step_must_declare_where_its_inputs_come_from():
    from types import SimpleNamespace

    from pydantic import BaseModel

    from pipeline.steps import Registry
    from pipeline.steps.base import StepOutputs

    class Inputs(BaseModel):
        transcript: str  # no reads.… annotation

    module = SimpleNamespace(Inputs=Inputs, Outputs=StepOutputs, run=lambda ctx, inputs: StepOutputs())
    with pytest.raises(UndeclaredField, match="Inputs.transcript does not say where it comes from"):
        Registry(PIPELINE.insert_after("insights", Stage("translate", module, None, "Translating")))


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
