"""The HTTP API: FastAPI over ``pipeline.api`` and ``pipeline.views`` (routes in ``routes.py``),
OpenAPI at ``/docs`` and ``/openapi.json``. ``python -m pipeline up`` serves it with uvicorn
(``create_app`` is the factory) as another supervised child.

Request bodies are capped: an upload at the configured upload size, everything else at the
transcript size, before any of it is read into the application.
"""

from __future__ import annotations

from fastapi import FastAPI

from pipeline import defaults
from pipeline.httpapi import errors, routes
from pipeline.settings import get_settings

__all__ = ["create_app"]

DESCRIPTION = """
Submit videos and transcripts, follow jobs, read and edit their drafts, and review what QA
flagged, on behalf of a workspace. Every request carries `Authorization: Bearer KEY` with a key
of the workspace (owners make them in the UI, page *API keys*, or with
`python -m pipeline apikey create --workspace W --role creator`). A key sees its workspace's
jobs only; a job of another workspace is 404. Errors are JSON: `{"error": {"code", "message",
"field"}}`.
"""


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="ClipInsight API",
        version="1",
        description=DESCRIPTION,
        max_body_size=settings.max_upload_mb * 1_000_000 + defaults.API_FORM_OVERHEAD_BYTES,
        form_limits={"max_part_size": defaults.MAX_TRANSCRIPT_BYTES + defaults.API_FORM_OVERHEAD_BYTES},
    )
    errors.install(app)
    app.include_router(routes.router)
    return app
