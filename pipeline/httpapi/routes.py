"""The routes under ``/api``. Each one turns the request into a call of ``pipeline.api`` or
``pipeline.views`` — the very functions the pages and the CLI call — with the key's caller, and
the answer into JSON. No rule lives here: who may do what, what a job accepts and what counts as
the same request are decided in ``pipeline``.

Handlers are plain functions (FastAPI runs them in its thread pool): every pipeline call blocks
on the store.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, StreamingResponse

from pipeline import api, defaults, views
from pipeline.access import Caller
from pipeline.errors import ClipInsightError, InvalidInput
from pipeline.httpapi.auth import key_caller
from pipeline.httpapi.errors import ERROR_RESPONSES
from pipeline.httpapi.schemas import (
    Decision,
    DraftEdit,
    DraftFormat,
    Drafts,
    DraftSaved,
    JobEvent,
    JobMoved,
    JobPage,
    JobReport,
    Rerun,
    Submitted,
)
from pipeline.models import InsightPack
from pipeline.settings import get_settings
from pipeline.stages import JobStatus

__all__ = ["router"]

router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)

CallerDep = Annotated[Caller, Depends(key_caller)]
JobId = Annotated[str, Path(max_length=64, description="A job id, e.g. job_0a1b2c3d4e")]


class EventStream(StreamingResponse):
    """``text/event-stream``, never cached or buffered on the way."""

    media_type = "text/event-stream"

    def __init__(self, content, status_code: int = 200):
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(content, status_code=status_code, headers=headers)


#: One server-sent event, as OpenAPI 3.2 describes an event stream's items: a ``status`` event's
#: data is a JobEvent, ``end`` and ``error`` carry the job id with its status or the refusal.
EVENT_SCHEMA = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["status", "end", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}

#: What each transcript format is served as (error answers stay JSON; the schema says both).
TRANSCRIPT_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "txt": "text/plain"}


def _iso(value) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value is not None else None


# --- Submitting ------------------------------------------------------------------------------


@router.post(
    "/jobs",
    status_code=201,
    response_model=Submitted,
    summary="Submit a video link, a media upload or a transcript",
    responses={200: {"model": Submitted, "description": "The job an identical earlier request made"}},
)
def submit_job(
    response: Response,
    caller: CallerDep,
    url: Annotated[str | None, Form(max_length=2048, description="A YouTube or direct media link")] = None,
    media: Annotated[UploadFile | None, File(description="A video or audio file")] = None,
    transcript: Annotated[UploadFile | None, File(description="A transcript file: .srt, .vtt or .txt")] = None,
    transcript_text: Annotated[str | None, Form(description="A transcript as text")] = None,
    formats: Annotated[str | None, Form(max_length=200, description="Comma-separated drafts; all by default")] = None,
    tone: Annotated[str, Form(max_length=40)] = "friendly",
    cta_url: Annotated[str | None, Form(max_length=2048, description="A call-to-action link")] = None,
    workspace: Annotated[str | None, Form(max_length=100, description="Default: the key's workspace")] = None,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=255, description="A repeat returns the first job")
    ] = None,
) -> Submitted:
    options = api.job_options(formats.split(",") if formats else None, tone=tone, cta_url=cta_url or None)
    given = {"url": url, "media": media, "transcript": transcript, "transcript_text": transcript_text}
    chosen = [name for name, value in given.items() if value not in (None, "")]
    if len(chosen) != 1:
        raise InvalidInput("give exactly one of url, media, transcript or transcript_text", field="url")
    common = {"workspace": workspace, "options": options, "idempotency_key": idempotency_key, "caller": caller}
    result = _submit(chosen[0], given[chosen[0]], common)
    if result.duplicate:
        response.status_code = 200
    response.headers["Location"] = f"/api/jobs/{result.job_id}"
    return Submitted(**result.__dict__)


def _submit(kind: str, value, common: dict) -> api.Submission:
    try:
        if kind == "url":
            return api.submit(views.as_link(value), **common)
        if kind == "media":
            return api.submit(str(api.save_upload(value.file, value.filename or "upload")), **common)
        if kind == "transcript":
            data = value.file.read(defaults.MAX_TRANSCRIPT_BYTES + 1)
            return api.submit(transcript=data, transcript_name=value.filename or "transcript.txt", **common)
        return api.submit(transcript=value, transcript_name="transcript.txt", **common)
    except InvalidInput as exc:
        if exc.field == "source":
            exc.field = kind
        raise


# --- Following -------------------------------------------------------------------------------


@router.get("/jobs", response_model=JobPage, summary="Jobs of the key's workspace, newest first")
def list_jobs(
    caller: CallerDep,
    status: Annotated[list[JobStatus] | None, Query(description="Only these statuses")] = None,
    q: Annotated[str, Query(max_length=200, description="Text in the id, title or source")] = "",
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    page_size: Annotated[int, Query(ge=1, le=defaults.API_MAX_PAGE_SIZE)] = defaults.API_PAGE_SIZE,
) -> JobPage:
    statuses = [s.value for s in status or []]
    found = views.runs(None, statuses, q, page=page, page_size=page_size, caller=caller)
    rows = found["rows"].astype(object).where(found["rows"].notna(), None).to_dict("records")
    jobs = [{**row, "created_at": _iso(row["created_at"]), "qa_score": _int(row["qa_score"])} for row in rows]
    return JobPage(jobs=jobs, total=found["total"], page=found["page"], pages=found["pages"], counts=found["counts"])


def _int(value) -> int | None:
    return None if value is None else int(value)


@router.get("/jobs/{job_id}", response_model=JobReport, summary="Status, runs, steps with attempts and errors")
def get_job(job_id: JobId, caller: CallerDep) -> dict:
    return api.status_report(job_id, caller=caller)


@router.get("/jobs/{job_id}/drafts", response_model=Drafts, summary="The latest version of each draft")
def get_drafts(job_id: JobId, caller: CallerDep) -> dict:
    return {"drafts": api.drafts(job_id, caller=caller)}


@router.get("/jobs/{job_id}/insights", response_model=InsightPack, summary="Themes, quotes with times, outline")
def get_insights(job_id: JobId, caller: CallerDep) -> InsightPack:
    return api.insights(job_id, caller=caller)


@router.get(
    "/jobs/{job_id}/transcript",
    summary="The transcript as SRT, WebVTT or text",
    responses={200: {"content": {kind: {"schema": {"type": "string"}} for kind in TRANSCRIPT_TYPES.values()}}},
)
def get_transcript(
    job_id: JobId, caller: CallerDep, format: Annotated[Literal["srt", "vtt", "txt"], Query()] = "srt"
) -> PlainTextResponse:
    text = api.transcript(job_id, format, caller=caller)
    return PlainTextResponse(text, media_type=f"{TRANSCRIPT_TYPES[format]}; charset=utf-8")


@router.get(
    "/jobs/{job_id}/bundle",
    summary="The export bundle as a zip file",
    responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}},
)
def get_bundle(job_id: JobId, caller: CallerDep) -> Response:
    data = views.bundle_zip(job_id, caller=caller)
    disposition = f'attachment; filename="{job_id}.zip"'
    return Response(data, media_type="application/zip", headers={"Content-Disposition": disposition})


# --- Changing --------------------------------------------------------------------------------


@router.put(
    "/jobs/{job_id}/drafts/{format}",
    response_model=DraftSaved,
    summary="Save a draft as a new version (If-Match: the version it was based on)",
)
def put_draft(
    job_id: JobId,
    format: DraftFormat,
    edit: DraftEdit,
    response: Response,
    caller: CallerDep,
    if_match: Annotated[
        str | None, Header(alias="If-Match", max_length=20, description="The version the edit is based on")
    ] = None,
) -> DraftSaved:
    version = api.edit_draft(
        job_id,
        format.value,
        title=edit.title,
        body=edit.body,
        posts=edit.posts,
        expected_version=_version(if_match),
        caller=caller,
    )
    response.headers["ETag"] = f'"{version}"'
    return DraftSaved(format=format, version=version)


def _version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidInput("If-Match must be a draft version number, e.g. 3", field="If-Match")
    return int(text)


@router.post("/jobs/{job_id}/review", response_model=JobMoved, summary="Approve or reject the drafts QA flagged")
def review(job_id: JobId, decision: Decision, caller: CallerDep) -> JobMoved:
    if decision.decision == "approve":
        status = api.approve(job_id, note=decision.reason, caller=caller)
    else:
        status = api.reject(job_id, reason=decision.reason or "", caller=caller)
    return JobMoved(job_id=job_id, status=status)


@router.post(
    "/jobs/{job_id}/transcript", response_model=JobMoved, summary="Give a transcript to a job that waits for one"
)
def provide_transcript(
    job_id: JobId,
    caller: CallerDep,
    transcript: Annotated[UploadFile, File(description="A transcript file: .srt, .vtt or .txt")],
) -> JobMoved:
    data = transcript.file.read(defaults.MAX_TRANSCRIPT_BYTES + 1)
    status = api.provide_transcript(job_id, data, transcript.filename or "transcript.txt", caller=caller)
    return JobMoved(job_id=job_id, status=status)


@router.post("/jobs/{job_id}/cancel", response_model=JobMoved, summary="Cancel a job that is still running")
def cancel(job_id: JobId, caller: CallerDep) -> JobMoved:
    return JobMoved(job_id=job_id, status=api.cancel(job_id, caller=caller))


@router.post("/jobs/{job_id}/retry", response_model=JobMoved, summary="Retry a failed job from the failed step")
def retry(job_id: JobId, caller: CallerDep) -> JobMoved:
    return JobMoved(job_id=job_id, status=api.retry(job_id, caller=caller))


@router.post("/jobs/{job_id}/rerun", response_model=JobMoved, summary="Regenerate a step and everything after it")
def rerun(job_id: JobId, body: Rerun, caller: CallerDep) -> JobMoved:
    return JobMoved(job_id=job_id, status=api.rerun(job_id, body.step, caller=caller))


# --- Events ------------------------------------------------------------------------------------


@router.get(
    "/jobs/{job_id}/events",
    summary="Server-sent events of the job's status and progress until it ends",
    description=(
        "A `status` event (data: a JobEvent as JSON) whenever the status, the progress or what runs "
        "changes, starting with the current one; an `end` event when the job rests in a terminal "
        "status, and the stream closes."
    ),
    responses={200: {"content": {"text/event-stream": {"schema": EVENT_SCHEMA}}}},
)
async def events(job_id: JobId, request: Request, caller: CallerDep) -> StreamingResponse:
    first = await run_in_threadpool(views.job_status, job_id, caller=caller)  # 401/404 before the stream
    return EventStream(_event_stream(job_id, caller, first, request))


async def _event_stream(job_id: str, caller: Caller, first: dict, request: Request):
    settings = get_settings()
    current, last, quiet_since = first, None, time.monotonic()
    while True:
        shown = JobEvent(**current)
        if shown != last:
            yield _sse("status", shown.model_dump_json())
            last, quiet_since = shown, time.monotonic()
        if current["terminal"]:
            yield _sse("end", json.dumps({"job_id": job_id, "status": current["status"]}))
            return
        if time.monotonic() - quiet_since >= defaults.EVENTS_KEEPALIVE_S:
            yield ": still running\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(defaults.EVENTS_POLL_S)
        if await request.is_disconnected():
            return
        try:
            current = await run_in_threadpool(views.job_status, job_id, caller=caller, settings=settings)
        except ClipInsightError as exc:  # refused from now on (the key was revoked), or the store is busy
            yield _sse("error", json.dumps({"job_id": job_id, "message": str(exc)}))
            return


def _sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"
