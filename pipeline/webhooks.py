"""Completion webhooks: one signed event per run, to public addresses only, retried on
transient failure, never sent twice.

- **Signed, always.** ``X-ClipInsight-Signature: sha256=<hex>`` is the HMAC-SHA256 of the body
  with the workspace's own signing secret (``pipeline.signing``); an event is never sent
  unsigned. ``X-ClipInsight-Event`` carries the event id (the run id), so a receiver can also
  drop a duplicate on its side.
- **Guarded.** The URL passes ``pipeline.urlguard`` when it is set and again here; the
  connection goes to the address the guard checked (no second DNS lookup, so no rebinding
  between check and connect); redirects are not followed. A refused target gets no request at
  all and its delivery reads "refused: private address" — nothing about an internal service
  (whether it answers, with what status) is learned, stored or shown.
- **Retried** by the one policy for remote calls (``pipeline.retrying``): connection errors,
  timeouts, 429 (with its Retry-After) and 5xx are tried again; other answers are final.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline import defaults, retrying, urlguard
from pipeline.errors import ErrorCode, StepError
from pipeline.models import WebhookResult
from pipeline.signing import sign

__all__ = ["POLICY", "REFUSED", "send_event"]

#: Tries and time budget of one delivery.
POLICY = retrying.CallPolicy(max_tries=defaults.WEBHOOK_ATTEMPTS, budget_s=defaults.WEBHOOK_BUDGET_S)
#: What a delivery to a non-public address records, whatever the address was.
REFUSED = "refused: private address"
_UNSIGNED = (
    "not sent: the workspace has no signing secret; make one with "
    "`python -m pipeline workspace NAME --rotate-webhook-secret`"
)


@dataclass
class _Answer:
    status: int
    retry_after: float | None = None


def send_event(
    url: str,
    event_id: str,
    payload: dict,
    secret: str | None,
    *,
    guard: urlguard.ConnectionGuard | None = None,
    policy: retrying.CallPolicy = POLICY,
) -> WebhookResult:
    """Deliver one event; the result says what happened in words safe to store and show."""
    if not secret:
        return WebhookResult(url=url, event_id=event_id, status="failed", attempts=0, error=_UNSIGNED)
    guard = guard or urlguard.ConnectionGuard()
    body = json.dumps({"event_id": event_id, **payload}, default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "X-ClipInsight-Event": event_id,
        "X-ClipInsight-Signature": sign(body, secret),
        "User-Agent": "ClipInsight-Webhook/1",
    }
    tries: list[_Answer | None] = []  # one entry per try: its answer, None when there was none

    def deliver() -> _Answer:
        tries.append(None)
        tries[-1] = _post(url, body, headers, guard)
        return _check(tries[-1])

    try:
        answer = retrying.call(deliver, classify=_classify, policy=policy, what=f"webhook {event_id}")
    except StepError as exc:
        return _failed(url, event_id, tries, exc)
    return WebhookResult(url=url, event_id=event_id, status="sent", attempts=len(tries), response_code=answer.status)


def _failed(url: str, event_id: str, tries: list[_Answer | None], error: StepError) -> WebhookResult:
    """A delivery that did not succeed; a refused one records no answer, since none was asked."""
    refused = error.message.startswith("refused:")
    last = tries[-1] if tries else None
    return WebhookResult(
        url=url,
        event_id=event_id,
        status="refused" if refused else "failed",
        attempts=0 if refused else len(tries),  # a refused delivery made no request
        response_code=None if refused or last is None else last.status,
        error=error.message,
    )


def _post(url: str, body: bytes, headers: dict, guard: urlguard.ConnectionGuard) -> _Answer:
    """One POST over a connection pinned to a checked address; redirects are not followed."""
    parts = urlsplit(urlguard.check_url(url, allow_private=guard.allow_private, exempt=guard.exempt))
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=defaults.WEBHOOK_TIMEOUT_S)
    connection._create_connection = guard.create_connection  # http.client connects through this
    try:
        connection.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
        response = connection.getresponse()
        response.read(defaults.WEBHOOK_MAX_ANSWER_BYTES)  # drain a little; the answer's body is not used
        return _Answer(response.status, _seconds(response.getheader("Retry-After")))
    finally:
        connection.close()


def _check(answer: _Answer) -> _Answer:
    """Raise for an answer that is not a success, classified for the retry policy."""
    if 200 <= answer.status < 300:
        return answer
    if 300 <= answer.status < 400:
        raise StepError(
            ErrorCode.INVALID_INPUT,
            f"the receiver answered with a redirect (HTTP {answer.status}); redirects are not followed, "
            "so set the webhook to the final address",
        )
    if answer.status == 429:
        raise StepError(ErrorCode.RATE_LIMITED, "HTTP 429", retry_after=answer.retry_after)
    if answer.status == 408:
        raise StepError(ErrorCode.TIMEOUT, "HTTP 408")
    if answer.status >= 500:
        raise StepError(ErrorCode.NETWORK_ERROR, f"HTTP {answer.status}")
    raise StepError(ErrorCode.INVALID_INPUT, f"HTTP {answer.status}")


def _classify(exc: BaseException) -> StepError | None:
    if isinstance(exc, StepError):
        return exc
    if isinstance(exc, urlguard.PrivateAddress) or (isinstance(exc, urlguard.UnsafeAddress) and exc.private):
        return StepError(ErrorCode.INVALID_INPUT, REFUSED)
    if isinstance(exc, urlguard.UnsafeURL | urlguard.UnsafeAddress):
        return StepError(ErrorCode.INVALID_INPUT, f"refused: {exc}")
    if isinstance(exc, socket.timeout | TimeoutError):
        return StepError(ErrorCode.TIMEOUT, "the receiver did not answer in time")
    if isinstance(exc, OSError | http.client.HTTPException):
        return StepError(ErrorCode.NETWORK_ERROR, f"the receiver could not be reached ({type(exc).__name__})")
    return None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the backoff decides
