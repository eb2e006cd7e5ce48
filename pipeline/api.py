"""What people do with jobs — submit, follow, export, review, provide a transcript, cancel,
retry, re-run, edit drafts. The CLI, the pages, the HTTP API and the notebooks call these and
nothing lower.

Every operation takes its ``caller`` (``pipeline.access.Caller``; None: the local administrator,
as the CLI and notebooks are) and opens one store session through ``access.session``, which
resolves the caller there; what the caller may do is checked with ``access`` in that session.
The signed-in email (or the key, or the OS user) is what every row the operation writes records.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import redis
from pydantic import ValidationError

from pipeline import defaults, export, queue, sources
from pipeline.access import Action, Caller, Principal, job_for, require
from pipeline.access import session as _session
from pipeline.errors import Conflict, ErrorCode, InvalidInput, NotFound, QuotaExceeded, StepError
from pipeline.models import Draft, DraftFormat, InsightPack, JobOptions, QAReport, Transcript
from pipeline.plans import check_quota
from pipeline.redis_server import RedisUnavailable
from pipeline.settings import Settings, get_settings
from pipeline.stages import DONE, FAILED, JobStatus, Move, load_pipeline
from pipeline.store import Database
from pipeline.store import artifacts as artifact_rows
from pipeline.store import jobs as job_rows
from pipeline.store import people as people_rows
from pipeline.store import steps as step_rows
from pipeline.store import usage as usage_rows
from pipeline.store import views as view_rows
from pipeline.store.runs import fail_job, queue_stage, resume
from pipeline.transcript import parse_transcript

__all__ = [
    "Submission",
    "job_options",
    "submit",
    "status_report",
    "job_progress",
    "doing_now",
    "live_progress",
    "wait_for",
    "drafts",
    "insights",
    "transcript",
    "export_job",
    "bundle_files_for",
    "approve",
    "reject",
    "provide_transcript",
    "cancel",
    "retry",
    "rerun",
    "edit_draft",
    "workers_alive",
    "configure_workspace",
    "read_transcript_file",
    "save_upload",
]


@dataclass(frozen=True)
class Submission:
    job_id: str
    status: str
    duplicate: bool
    enqueued: bool


def _pipeline_name(settings: Settings | None) -> str | None:
    return (settings or get_settings()).pipeline


def read_transcript_file(path: str | Path) -> tuple[bytes, str]:
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"transcript file not found: {path}")
    size = path.stat().st_size
    if size > defaults.MAX_TRANSCRIPT_BYTES:
        raise InvalidInput(
            f"the transcript is {size / 1e6:.1f} MB; the limit is {defaults.MAX_TRANSCRIPT_BYTES / 1e6:.0f} MB"
        )
    return path.read_bytes(), path.name


def save_upload(data: bytes | BinaryIO, filename: str, settings: Settings | None = None) -> Path:
    """Keep an uploaded file (its bytes, or a binary stream read in chunks) under the data dir and
    return its path, for ``submit(path)``. Content-addressed, so the same upload twice is one file
    (and one job while it runs). A stream longer than the upload cap is refused while it is read."""
    settings = settings or get_settings()
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in Path(filename).name)[-80:] or "upload"
    folder = settings.media_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    tmp = folder / f".{secrets.token_hex(8)}.part"
    try:
        digest = _copy_capped(stream, tmp, settings.max_upload_mb * 1_000_000)
        path = folder / f"{digest[:16]}-{safe}"
        if not path.exists():
            tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _copy_capped(stream: BinaryIO, target: Path, max_bytes: int) -> str:
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        while chunk := stream.read(1024 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise InvalidInput(f"the upload is larger than {max_bytes / 1e6:.0f} MB", field="media")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def job_options(formats: list[str] | None = None, tone: str = "friendly", cta_url: str | None = None) -> JobOptions:
    """The options of a submission from what a person typed or picked; what cannot be used is an
    InvalidInput that names the problem (the rules themselves live in :class:`JobOptions`)."""
    try:
        chosen = list(DraftFormat) if formats is None else [DraftFormat(str(f).strip()) for f in formats]
    except ValueError as exc:
        raise InvalidInput(
            f"{exc}; the drafts are {', '.join(f.value for f in DraftFormat)}", field="formats"
        ) from None
    try:
        return JobOptions(formats=chosen, tone=tone, cta_url=cta_url)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else None
        raise InvalidInput(str(error["msg"]).removeprefix("Value error, "), field=field) from None


def submit(
    source: str | None = None,
    *,
    transcript: bytes | str | None = None,
    transcript_name: str = "transcript.txt",
    workspace: str | None = None,
    options: JobOptions | None = None,
    idempotency_key: str | None = None,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> Submission:
    """Create a job (or return the active one for the same source and options, or the one an
    ``idempotency_key`` already made). A transcript whose length the workspace's plan cannot take
    is refused here, before a job exists. ``workspace`` None: the caller's only workspace."""
    settings = settings or get_settings()
    options = options or JobOptions()
    try:
        if transcript is not None:
            parsed = parse_transcript(transcript, transcript_name)
            kind, label, fingerprint = "transcript", source or transcript_name, _digest(parsed.model_dump_json())
        elif source:
            kind, label = sources.classify(source, settings)
            parsed, fingerprint = None, sources.fingerprint(kind, label)
        else:
            raise InvalidInput("give a source (a URL or a media file) or a transcript")
    except InvalidInput as exc:
        raise exc.about("transcript" if transcript is not None else "source") from None
    with _session(caller, settings) as (db, who):
        workspace = _workspace_of(who, workspace)
        require(who, Action.SUBMIT, workspace)
        usage_rows.ensure_workspace(db, workspace)
        key = _digest(json.dumps([workspace, kind, fingerprint, options.model_dump(mode="json")]))
        earlier = _earlier_submission(db, workspace, key, idempotency_key)
        if earlier:
            return earlier
        if parsed is not None:
            _check_plan(usage_rows.plan_status(db, workspace), parsed.duration)
        attempts, job = _create(db, workspace, kind, label, options, key, parsed, who.actor, settings.pipeline)
        if idempotency_key:
            people_rows.remember_request(db, workspace, idempotency_key, key, job["job_id"])
    return Submission(job["job_id"], job["status"], duplicate=False, enqueued=queue.try_enqueue(attempts, settings))


def _workspace_of(who: Principal, workspace: str | None) -> str:
    """The workspace named, else the caller's only one (the default one for the administrator)."""
    if workspace:
        return workspace
    mine = who.workspaces()
    if mine is None:
        return defaults.DEFAULT_WORKSPACE
    if len(mine) == 1:
        return mine[0]
    if not mine:
        return defaults.DEFAULT_WORKSPACE  # refused by the check that follows, with its reason
    raise InvalidInput(f"{who.actor} is a member of {', '.join(mine)}: say which workspace")


def _earlier_submission(db: Database, workspace: str, key: str, idempotency_key: str | None) -> Submission | None:
    """The job an earlier identical request made: the same Idempotency-Key (whatever became of
    its job), or the same source and options while that job is still active."""
    if idempotency_key:
        if len(idempotency_key) > 255:
            raise InvalidInput("the Idempotency-Key is longer than 255 characters", field="Idempotency-Key")
        seen = people_rows.idempotent_request(db, workspace, idempotency_key)
        if seen and seen["request_hash"] != key:
            raise Conflict(
                f"the Idempotency-Key {idempotency_key!r} was used for another request (job {seen['job_id']})"
            )
        if seen:
            job = job_rows.get_job(db, seen["job_id"])
            return Submission(job["job_id"], job["status"], duplicate=True, enqueued=True)
    existing = job_rows.find_active_duplicate(db, workspace, key)
    if not existing:
        return None
    job = job_rows.get_job(db, existing["job_id"])
    if idempotency_key:
        people_rows.remember_request(db, workspace, idempotency_key, key, job["job_id"])
    return Submission(job["job_id"], job["status"], duplicate=True, enqueued=True)


def _check_plan(plan, duration_s: float) -> None:
    try:
        check_quota(plan, duration_s)
    except StepError as exc:
        raise QuotaExceeded(exc.message) from None


def _create(db: Database, workspace, kind, label, options, key, parsed: Transcript | None, actor, pipeline_name):
    job = job_rows.create_job(
        db,
        workspace=workspace,
        source_kind=kind,
        source=label,
        options=options.model_dump(mode="json"),
        dedupe_key=key,
        actor=actor,
    )  # the actor is also who submitted: a creator may act on their own jobs
    first = load_pipeline(pipeline_name).first().name
    run = job_rows.create_run(db, job["job_id"], first, "submitted")
    if parsed is not None:
        artifact_rows.save_artifact(
            db,
            job_id=job["job_id"],
            run_id=run["run_id"],
            step="submit",
            kind="provided_transcript",
            content=parsed.model_dump_json(),
        )
    return queue_stage(db, job, run["run_id"], first, pipeline_name), job


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- Following a job ---------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


def status_report(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> dict:
    """The status contract of ``python -m pipeline status --json`` and ``GET /api/jobs/{id}``:
    status, runs with every step attempt and its error, artifacts, and how far the job is."""
    with _session(caller, settings) as (db, who):
        job = job_for(db, who, job_id)
        runs = job_rows.list_runs(db, job_id)
        attempts = step_rows.attempts_for_job(db, job_id)
        artifacts = artifact_rows.latest_artifacts(db, job_id, content=False)
    run_id = runs[-1]["run_id"] if runs else None
    waiting = [a for a in attempts if a["run_id"] == run_id and a["status"] in view_rows.PENDING_ATTEMPT]
    live = live_progress([run_id], settings).get(run_id, {}) if waiting else {}
    return {
        "job_id": job_id,
        "workspace": job["workspace"],
        "status": job["status"],
        "status_reason": job["status_reason"],
        "error_code": job["error_code"],
        "title": job["title"],
        "source": job["source"],
        "submitted_by": job["submitted_by"],
        "created_at": _iso(job["created_at"]),
        "qa_score": job["qa_score"],
        "progress": job_progress(job["status"], waiting, live),
        "now": doing_now(waiting),
        "runs": [_run_report(run, attempts) for run in runs],
        "artifacts": [{"kind": a["kind"], "format": a["format"], "chars": a["chars"]} for a in artifacts],
    }


def live_progress(run_ids: list[str], settings: Settings | None = None) -> dict[str, dict[str, float]]:
    """run id -> step -> the share of it done, as the running steps report it to Redis; empty
    when Redis is away (progress is live state, never the truth)."""
    if not run_ids:
        return {}
    try:
        conn = queue.redis_client(settings or get_settings())
        return {run_id: queue.progress_of(conn, run_id) for run_id in run_ids}
    except (RedisUnavailable, redis.RedisError, OSError):
        return {}


def job_progress(status: str, pending: list[dict], live: dict[str, float]) -> float | None:
    """How far a job is, 0..1: the stages done plus the share of the running stage its steps
    reported (weighted as the pipeline table says). None for a job that stopped short of delivery."""
    status = JobStatus(status)
    if status is DONE:
        return 1.0
    if status.terminal:
        return None
    pipeline = load_pipeline(get_settings().pipeline)
    if not pending:
        return pipeline.progress(None, 0.0, status)
    stage = pipeline.stage_of(pending[0]["step"])
    shares = {step: share for step, share in live.items() if pipeline.stage_of(step) == stage}
    for attempt in pending:  # steps of the stage that finished keep their reported share (1.0)
        shares.setdefault(attempt["step"], 0.0)
    return pipeline.progress(stage.name, sum(shares.values()) / len(shares), status)


def doing_now(pending: list[dict]) -> str:
    """What an active job waits for or runs right now, e.g. ``insights running (attempt 2)``."""
    parts = []
    for attempt in pending:
        label = "retry scheduled" if attempt["status"] == "scheduled" else attempt["status"]
        again = f" (attempt {attempt['attempt']})" if attempt["attempt"] > 1 else ""
        parts.append(f"{attempt['step']} {label}{again}")
    return ", ".join(parts)


def _run_report(run: dict, attempts: list[dict]) -> dict:
    mine = [a for a in attempts if a["run_id"] == run["run_id"]]
    finished = run["finished_at"] is not None
    return {
        "run_id": run["run_id"],
        "status": "finished" if finished else "active",
        "start_step": run["start_step"],
        "steps": [
            {
                "step": a["step"],
                "status": a["status"],
                "attempt": a["attempt"],
                "error_code": a["error_code"],
                "error_message": a["error_message"],
                "started_at": _iso(a["started_at"]),
                "finished_at": _iso(a["finished_at"]),
            }
            for a in mine
        ],
    }


def wait_for(
    job_id: str,
    timeout: float | None = None,
    *,
    on_change: Callable[[dict], None] | None = None,
    caller: Caller | None = None,
    settings: Settings | None = None,
    poll_s: float = 0.25,
) -> dict:
    """Block until the job rests in a terminal status (or the timeout passes); return its report."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last = None
    while True:
        report = status_report(job_id, caller=caller, settings=settings)
        marker = (
            report["status"],
            sum(len(r["steps"]) for r in report["runs"]),
            tuple(s["status"] for r in report["runs"] for s in r["steps"]),
        )
        if on_change and marker != last:
            on_change(report)
        last = marker
        if JobStatus(report["status"]).terminal:
            return report
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(f"job {job_id} is still {report['status']} after {timeout:.0f} s")
        time.sleep(poll_s)


# --- Export ------------------------------------------------------------------------------


def bundle_files_for(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> dict[str, str]:
    with _session(caller, settings) as (db, who):
        job = job_for(db, who, job_id)
        transcript = _transcript(db, job_id)
        insights = _artifact(db, job_id, "insights", InsightPack)
        report = _artifact(db, job_id, "qa_report", QAReport)
        drafts = {fmt: row["draft"] for fmt, row in artifact_rows.latest_drafts(db, job_id).items()}
    if transcript is None:
        raise InvalidInput(f"job {job_id} has no transcript yet (status {job['status']}); nothing to export")
    return export.bundle_files(job=job, transcript=transcript, insights=insights, drafts=drafts, qa_report=report)


def export_job(
    job_id: str, out_dir: str | Path, *, caller: Caller | None = None, settings: Settings | None = None
) -> list[Path]:
    return export.write_bundle(Path(out_dir), bundle_files_for(job_id, caller=caller, settings=settings))


def drafts(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> list[dict]:
    """The latest version of each draft, in the usual order of formats."""
    with _session(caller, settings) as (db, who):
        job_for(db, who, job_id)
        latest = artifact_rows.latest_drafts(db, job_id)
    order = [f.value for f in DraftFormat]
    return [_draft_version(latest[fmt]) for fmt in sorted(latest, key=order.index)]


def _draft_version(row: dict) -> dict:
    return {
        "format": row["format"],
        "version": row["version"],
        "title": row["title"],
        "body": row["body"],
        "posts": row["posts"],
        "source": row["source"],
        "author": row["author"],
        "created_at": _iso(row["created_at"]),
    }


def insights(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> InsightPack:
    with _session(caller, settings) as (db, who):
        job = job_for(db, who, job_id)
        pack = _artifact(db, job_id, "insights", InsightPack)
    if pack is None:
        raise NotFound(f"job {job_id} has no insight pack yet (status {job['status']})")
    return pack


TRANSCRIPT_FORMATS = ("srt", "vtt", "txt")


def transcript(job_id: str, fmt: str = "srt", *, caller: Caller | None = None, settings: Settings | None = None) -> str:
    """The job's transcript as SRT, WebVTT or plain text."""
    if fmt not in TRANSCRIPT_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(TRANSCRIPT_FORMATS)}", field="format")
    with _session(caller, settings) as (db, who):
        job = job_for(db, who, job_id)
        found = _transcript(db, job_id)
    if found is None:
        raise NotFound(f"job {job_id} has no transcript yet (status {job['status']})")
    return {"srt": found.to_srt, "vtt": found.to_vtt, "txt": found.to_txt}[fmt]()


def _transcript(db: Database, job_id: str) -> Transcript | None:
    return _artifact(db, job_id, "transcript", Transcript) or _artifact(db, job_id, "provided_transcript", Transcript)


def _artifact(db: Database, job_id: str, kind: str, model):
    row = artifact_rows.load_artifact(db, job_id, kind)
    return model.model_validate_json(row["content"]) if row else None


# --- People moving jobs on ---------------------------------------------------------------


def approve(
    job_id: str, *, note: str | None = None, caller: Caller | None = None, settings: Settings | None = None
) -> str:
    """An editor approves flagged drafts: REQUIRES_MANUAL_REVIEW -> REVIEWED -> delivery."""
    with _session(caller, settings) as (db, who):
        job = _job_in(db, who, job_id, Action.REVIEW, JobStatus.REQUIRES_MANUAL_REVIEW, "approve")
        run = job_rows.latest_run(db, job_id)
        job_rows.record_review(db, job_id, run["run_id"], "approved", note, who.actor)
        job_rows.reopen_run(db, run["run_id"])  # the run QA paused goes on
        attempts = resume(
            db,
            job,
            JobStatus.REQUIRES_MANUAL_REVIEW,
            reason=note or f"approved by {who.actor}",
            actor=who.actor,
            run_id=run["run_id"],
            pipeline_name=_pipeline_name(settings),
        )
        status = job_rows.get_job(db, job_id)["status"]
    queue.try_enqueue(attempts, settings)
    return status


def reject(job_id: str, *, reason: str, caller: Caller | None = None, settings: Settings | None = None) -> str:
    if not reason or not reason.strip():
        raise InvalidInput("a rejection needs a reason (--reason)", field="reason")
    with _session(caller, settings) as (db, who):
        _job_in(db, who, job_id, Action.REVIEW, JobStatus.REQUIRES_MANUAL_REVIEW, "reject")
        run = job_rows.latest_run(db, job_id)
        job_rows.record_review(db, job_id, run["run_id"], "rejected", reason.strip(), who.actor)
        error = StepError(ErrorCode.REJECTED, f"rejected: {reason.strip()}")
        fail_job(db, job_id, run["run_id"], JobStatus.FAILED, error, move=Move.REJECT, actor=who.actor)
    return JobStatus.FAILED.value


def _job_in(db: Database, who: Principal, job_id: str, action: Action, status: JobStatus, verb: str) -> dict:
    """The job, if the caller may do ``action`` on it and it rests in ``status``."""
    job = job_for(db, who, job_id, action)
    if job["status"] != status.value:
        raise Conflict(f"cannot {verb} job {job_id}: it is {job['status']}, not {status.value}")
    return job


def provide_transcript(
    job_id: str, data: bytes | str, filename: str, *, caller: Caller | None = None, settings: Settings | None = None
) -> str:
    """A creator's transcript for a job that waits for one: resume from transcription."""
    try:
        parsed = parse_transcript(data, filename)
    except InvalidInput as exc:
        raise exc.about("transcript") from None
    waiting = JobStatus.NEEDS_USER_INPUT
    stage, _status, _move = load_pipeline(_pipeline_name(settings)).resume_point(waiting)
    with _session(caller, settings) as (db, who):
        job = _job_in(db, who, job_id, Action.PROVIDE_TRANSCRIPT, waiting, "provide a transcript for")
        run = job_rows.create_run(db, job_id, stage.name, "transcript provided")
        artifact_rows.save_artifact(
            db,
            job_id=job_id,
            run_id=run["run_id"],
            step="submit",
            kind="provided_transcript",
            content=parsed.model_dump_json(),
        )
        attempts = resume(
            db,
            job,
            waiting,
            reason=f"transcript {filename} provided",
            actor=who.actor,
            run_id=run["run_id"],
            pipeline_name=_pipeline_name(settings),
        )
        status = job_rows.get_job(db, job_id)["status"]
    queue.try_enqueue(attempts, settings)
    return status


def cancel(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> str:
    with _session(caller, settings) as (db, who):
        job = job_for(db, who, job_id, Action.CANCEL)
        if JobStatus(job["status"]).terminal:
            raise Conflict(f"job {job_id} is already {job['status']}; nothing to cancel")
        run = job_rows.latest_run(db, job_id)
        error = StepError(ErrorCode.CANCELLED, f"cancelled by {who.actor}")
        fail_job(db, job_id, run["run_id"], JobStatus.FAILED, error, move=Move.CANCEL, actor=who.actor)
    return JobStatus.FAILED.value


def retry(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> str:
    """A new run from the stage that failed, for a job that failed or was blocked."""
    with _session(caller, settings) as (db, who):
        status = JobStatus(job_for(db, who, job_id, Action.RETRY)["status"])
        failed = step_rows.last_failed_step(db, job_id)
    if status not in FAILED:
        raise Conflict(f"job {job_id} is {status.value}; only a failed or blocked job can be retried (re-run a step)")
    pipeline = load_pipeline((settings or get_settings()).pipeline)
    stage = pipeline.stage_of(failed).name if failed else pipeline.first().name
    return _rerun(job_id, stage, Action.RETRY, "retry", caller, settings)


def rerun(
    job_id: str, stage: str, *, caller: Caller | None = None, reason: str = "re-run", settings: Settings | None = None
) -> str:
    """Regenerate ``stage`` and everything after it in a new run; what came before is reused."""
    return _rerun(job_id, stage, Action.RERUN, reason, caller, settings)


def _rerun(job_id: str, stage: str, action: Action, reason: str, caller: Caller | None, settings) -> str:
    settings = settings or get_settings()
    pipeline = load_pipeline(settings.pipeline)
    stage = pipeline.stage(stage).name  # an unknown name is refused with the list of stages
    with _session(caller, settings) as (db, who):
        job = job_for(db, who, job_id, action)
        if JobStatus(job["status"]).active:
            raise Conflict(f"job {job_id} is still running ({job['status']}); cancel it first or wait")
        run = job_rows.create_run(db, job_id, stage, f"{reason} from {stage}")
        target = pipeline.status_before(stage)
        job_rows.set_status(
            db, job_id, target, move=Move.RERUN, reason=f"{reason} from {stage}", run_id=run["run_id"], actor=who.actor
        )
        attempts = queue_stage(db, job, run["run_id"], stage, settings.pipeline)
    queue.try_enqueue(attempts, settings)
    return target.value


def edit_draft(
    job_id: str,
    fmt: str | DraftFormat,
    *,
    title: str,
    body: str,
    posts: list[str] | None = None,
    expected_version: int | None = None,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> int:
    """Save an edit as a new version; a save based on a version that is no longer the latest
    raises Conflict carrying the latest version (``current``), so nobody overwrites a colleague."""
    fmt = DraftFormat(fmt)
    if not body.strip() and not posts:
        raise InvalidInput("the draft is empty; write something or leave the editor without saving", field="body")
    draft = Draft(format=fmt, title=title.strip() or fmt.label, body=body, posts=posts or [])
    with _session(caller, settings) as (db, who):
        job_for(db, who, job_id, Action.EDIT_DRAFT)
        latest = artifact_rows.latest_drafts(db, job_id).get(fmt.value)
        if latest is None:
            raise NotFound(f"job {job_id} has no {fmt.label} draft yet")
        if expected_version is not None and latest["version"] != expected_version:
            raise Conflict(
                f"the {fmt.label} draft was saved by {latest['author']} (version {latest['version']}) after you "
                f"opened version {expected_version}; reload to see their changes, then apply yours again",
                current=_draft_version(latest),
            )
        return artifact_rows.add_draft_version(
            db, job_id, draft, source="edit", author=who.actor, expected_version=expected_version, note="edited"
        )


def workers_alive(settings: Settings | None = None) -> list[str]:
    try:
        return queue.live_workers(queue.redis_client(settings))
    except (RedisUnavailable, OSError):
        return []


def configure_workspace(
    name: str,
    *,
    plan: str | None = None,
    webhook_url: str | None = None,
    clear_webhook: bool = False,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> dict:
    """A workspace's plan and webhook (owners). The administrator creates a workspace by naming it."""
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise InvalidInput("the webhook URL must start with http:// or https://")
    with _session(caller, settings) as (db, who):
        if plan is not None or webhook_url is not None or clear_webhook:
            require(who, Action.CONFIGURE_WORKSPACE, name)
        else:
            require(who, Action.READ, name)
        info = usage_rows.configure_workspace(db, name, plan=plan, webhook_url=webhook_url, clear_webhook=clear_webhook)
        status = usage_rows.plan_status(db, name)
    return {**info.model_dump(), **status.model_dump()}
