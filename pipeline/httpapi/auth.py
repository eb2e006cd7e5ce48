"""Who calls: ``Authorization: Bearer KEY`` becomes an API-key caller, limited to so many requests
a minute per key (shared by every API process through Redis). Whether the key is valid, live and
may do the request is decided by ``pipeline.access`` inside the operation's store session, so a
key revoked a moment ago is refused at its next request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline.access import Caller
from pipeline.ratelimit import api_key_limiter
from pipeline.settings import get_settings

__all__ = ["key_caller"]

bearer = HTTPBearer(
    auto_error=False,
    description="A workspace API key: `python -m pipeline apikey create --workspace W`, or API keys in the UI",
)


def key_caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    """The caller a request's key stands for (no key: a caller no key matches, refused with 401
    by the operation, which also records the refusal). Over the key's rate: 429."""
    caller = Caller.api_key(credentials.credentials if credentials else "")
    api_key_limiter(get_settings(), caller.key_hash).acquire(0)  # raises RATE_LIMITED with retry_after
    return caller
