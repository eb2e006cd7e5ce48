"""Completion webhooks: one signed event per run, retried on failure, never sent twice.

The body is JSON; ``X-ClipInsight-Signature: sha256=<hex>`` is the HMAC-SHA256 of the body with
the secret from ``CLIPINSIGHT_WEBHOOK_SECRET``; ``X-ClipInsight-Event`` carries the event id
(the run id), so a receiver can also drop a duplicate on its side.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from pipeline import defaults
from pipeline.models import WebhookResult

__all__ = ["sign", "send_event"]


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_event(
    url: str,
    event_id: str,
    payload: dict,
    secret: str | None,
    *,
    attempts: int = defaults.WEBHOOK_ATTEMPTS,
    pause_s: float = 1.0,
) -> WebhookResult:
    body = json.dumps({"event_id": event_id, **payload}, default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "X-ClipInsight-Event": event_id,
        "User-Agent": "ClipInsight-Webhook/1",
    }
    if secret:
        headers["X-ClipInsight-Signature"] = sign(body, secret)
    error, code = None, None
    for attempt in range(1, attempts + 1):
        code, error = _post(url, body, headers)
        if code is not None and 200 <= code < 300:
            return WebhookResult(url=url, event_id=event_id, status="sent", attempts=attempt, response_code=code)
        if attempt < attempts:
            time.sleep(pause_s * 2 ** (attempt - 1))
    return WebhookResult(
        url=url, event_id=event_id, status="failed", attempts=attempts, response_code=code, error=error
    )


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str | None]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=defaults.WEBHOOK_TIMEOUT_S) as response:
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))
