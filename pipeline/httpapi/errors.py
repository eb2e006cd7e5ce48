"""Errors as the API says them: JSON ``{"error": {"code", "message", "field"?, "current"?}}`` with
the HTTP status each kind of error means. The errors themselves come from ``pipeline`` (the API
decides nothing): a refusal by ``pipeline.access`` is 401 or 403, another workspace's job 404.
"""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from pipeline.errors import (
    ClipInsightError,
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    NotFound,
    QuotaExceeded,
    StepError,
    Unauthenticated,
)
from pipeline.httpapi.schemas import ErrorResponse
from pipeline.store import StoreBusy

__all__ = ["install", "ERROR_RESPONSES", "error_response"]

log = logging.getLogger("clipinsight.api")

#: Statuses any route may answer with besides its own; documented in the OpenAPI schema.
ERROR_RESPONSES = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "The body could not be parsed (e.g. broken multipart)",
        401: "No valid API key (missing, unknown or revoked)",
        403: "The key's role may not do this",
        404: "No such job in the key's workspace",
        409: "The job is not in a state that allows this, or the draft changed",
        413: "The request body is too large",
        422: "An input cannot be used; `field` names it",
        429: "Too many requests for this key; see Retry-After",
        503: "The store is busy; retry shortly",
    }.items()
}

_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
}


def error_response(status: int, code: str, message: str, *, headers: dict | None = None, **extra) -> JSONResponse:
    body = {"code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0]
    location = [str(part) for part in first.get("loc", ())]
    if location and location[0] in ("body", "query", "path", "header", "cookie"):
        location = location[1:]  # where it came from, not which input it is
    field = ".".join(location) or None
    message = str(first.get("msg", "invalid input")).removeprefix("Value error, ")
    return error_response(422, "INVALID_INPUT", f"{field}: {message}" if field else message, field=field)


def _http(_request: Request, exc: HTTPException) -> JSONResponse:
    code = _STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
    return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))


def _rate_limited(exc: StepError) -> JSONResponse:
    wait = max(1, math.ceil(exc.retry_after or 1))
    message = f"too many requests for this API key; retry in {wait} s"
    return error_response(429, ErrorCode.RATE_LIMITED.value, message, headers={"Retry-After": str(wait)})


def _pipeline_error(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, Unauthenticated):
        return error_response(401, "UNAUTHENTICATED", str(exc), headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, Forbidden):
        return error_response(403, "FORBIDDEN", str(exc))
    if isinstance(exc, NotFound):
        return error_response(404, "NOT_FOUND", str(exc))
    if isinstance(exc, Conflict):
        return error_response(409, "CONFLICT", str(exc), current=exc.current)
    if isinstance(exc, InvalidInput):
        return error_response(422, "INVALID_INPUT", str(exc), field=exc.field)
    if isinstance(exc, QuotaExceeded):
        return error_response(422, ErrorCode.QUOTA_EXCEEDED.value, str(exc))
    if isinstance(exc, StoreBusy):
        return error_response(503, "STORE_BUSY", str(exc), headers={"Retry-After": "1"})
    if isinstance(exc, StepError) and exc.code is ErrorCode.RATE_LIMITED:
        return _rate_limited(exc)
    return _unexpected(_request, exc)


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, ErrorCode.INTERNAL_ERROR.value, "an unexpected error; it was logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(ClipInsightError, _pipeline_error)
    app.add_exception_handler(Exception, _unexpected)
