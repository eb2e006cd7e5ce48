"""The one retry policy for remote calls: transient errors are retried within the budget,
anything else goes up at once."""

from __future__ import annotations

import pytest

from pipeline import retrying
from pipeline.errors import ErrorCode, StepError


class Flaky:
    """Fails with the given errors in turn, then answers."""

    def __init__(self, *errors: BaseException):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


def classify(exc: BaseException) -> StepError | None:
    return exc if isinstance(exc, StepError) else None


def run(request, **kwargs):
    waits: list[float] = []
    result = retrying.call(request, classify=classify, sleep=waits.append, **kwargs)
    return result, waits


def test_transient_errors_are_retried_until_the_call_succeeds():
    flaky = Flaky(StepError(ErrorCode.RATE_LIMITED, "429"), StepError(ErrorCode.NETWORK_ERROR, "reset"))
    result, waits = run(flaky)
    assert result == "answer" and flaky.calls == 3 and len(waits) == 2
    assert waits[1] > waits[0] * 1.2  # exponential, not constant


def test_retry_after_is_honoured():
    flaky = Flaky(StepError(ErrorCode.RATE_LIMITED, "429", retry_after=7.0))
    _, waits = run(flaky)
    assert waits == [7.0]


def test_a_permanent_error_is_not_retried():
    flaky = Flaky(StepError(ErrorCode.API_KEY_INVALID, "bad key"))
    with pytest.raises(StepError) as raised:
        run(flaky)
    assert raised.value.code is ErrorCode.API_KEY_INVALID and flaky.calls == 1


def test_an_unknown_exception_is_a_bug_and_goes_up_unchanged():
    flaky = Flaky(KeyError("oops"))
    with pytest.raises(KeyError):
        run(flaky)
    assert flaky.calls == 1


def test_tries_and_budget_bound_the_call():
    always = Flaky(*[StepError(ErrorCode.TIMEOUT, "slow") for _ in range(20)])
    with pytest.raises(StepError):
        run(always, policy=retrying.CallPolicy(max_tries=3))
    assert always.calls == 3
    waits_asked = Flaky(*[StepError(ErrorCode.RATE_LIMITED, "429", retry_after=120) for _ in range(3)])
    with pytest.raises(StepError):
        run(waits_asked, policy=retrying.CallPolicy(budget_s=60))
    assert waits_asked.calls == 1  # waiting 120 s would overrun a 60 s budget: give up now
