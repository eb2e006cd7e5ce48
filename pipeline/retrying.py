"""Retrying one remote call: the one policy every call to another service goes through (LLM
requests, ASR uploads and polling, downloads, webhooks).

A call that fails with a transient error (rate limited, timed out, network) is tried again after
a jittered exponential backoff (the same shape as step retries, starting smaller), honouring the
server's Retry-After, until its tries or its time budget are spent. Only then does the error reach
the step, whose own retry (``errors.should_retry``) is the second line. So one 503 in four judge
calls costs one repeated call, not a repeated step.

Use::

    answer = retrying.call(lambda: client.generate(...), classify=map_error, on_retry=limiter_pause)

``classify`` turns an exception into a :class:`StepError` (or None for one it does not know, which
is raised as it is: a bug is not retried).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pipeline import defaults
from pipeline.errors import ErrorCode, StepError

__all__ = ["CallPolicy", "TRANSIENT", "ServiceUnavailable", "is_transient", "call", "DEFAULT_POLICY"]

log = logging.getLogger("clipinsight.retrying")

T = TypeVar("T")

#: Errors that may go away by themselves within seconds.
TRANSIENT = frozenset({ErrorCode.RATE_LIMITED, ErrorCode.TIMEOUT, ErrorCode.NETWORK_ERROR})


class ServiceUnavailable(StepError):
    """A server-side failure that usually passes within seconds (HTTP 500, 502, 503: "the model
    is overloaded"). Retried by the call like a transient error; when the call's budget is spent
    it reaches the step with the step's own failure code (GENERATION_FAILED, ...)."""


def is_transient(error: StepError) -> bool:
    return error.code in TRANSIENT or isinstance(error, ServiceUnavailable)


@dataclass(frozen=True)
class CallPolicy:
    max_tries: int = defaults.CALL_MAX_TRIES
    budget_s: float = defaults.CALL_BUDGET_S
    initial_s: float = defaults.CALL_RETRY_INITIAL_S
    factor: float = defaults.RETRY_FACTOR
    cap_s: float = defaults.RETRY_CAP_S
    jitter: float = defaults.RETRY_JITTER

    def delay(self, failed_try: int, retry_after: float | None = None, rng=random) -> float:
        """Seconds before the try after ``failed_try`` (1-based); Retry-After wins when longer."""
        base = min(self.initial_s * self.factor ** (failed_try - 1), self.cap_s)
        delay = base * (1 + rng.uniform(-self.jitter, self.jitter))
        return max(delay, retry_after or 0.0)


DEFAULT_POLICY = CallPolicy()


def call(
    request: Callable[[], T],
    *,
    classify: Callable[[BaseException], StepError | None],
    policy: CallPolicy = DEFAULT_POLICY,
    on_retry: Callable[[StepError, float], None] | None = None,
    what: str = "remote call",
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run ``request``; retry transient failures within the policy; raise the last error as a
    :class:`StepError` (its code tells the step whether a later attempt may succeed)."""
    deadline = clock() + policy.budget_s
    for tried in range(1, policy.max_tries + 1):
        try:
            return request()
        except Exception as exc:
            error = classify(exc)
            if error is None:
                raise
            delay = policy.delay(tried, error.retry_after)
            if not is_transient(error) or tried == policy.max_tries or clock() + delay > deadline:
                raise error from exc
            log.info("%s: %s; try %d in %.1f s", what, error.code.value, tried + 1, delay)
            if on_retry is not None:
                on_retry(error, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises
