"""What people do with jobs — submit, follow, export, review, provide a transcript, cancel,
retry, re-run, regenerate a draft, edit drafts. The CLI, the pages, the HTTP API and the
notebooks call these and nothing lower.

Every operation takes its ``caller`` (``pipeline.access.Caller``; None: the local administrator,
as the CLI and notebooks are) and runs one domain transaction through ``access.run``, which hands
the caller to the transaction; there it is resolved and what it may do is checked with
``access``. The signed-in email (or the key, or the OS user) is what every row the operation
writes records.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import redis
from pydantic import ValidationError

from pipeline import access, defaults, export, formats, qa, queue, signing, sources, urlguard, wording
from pipeline.access import Action, Caller, Principal, job_for, require, resolve
from pipeline.errors import Conflict, ErrorCode, InvalidInput, NotFound, QuotaExceeded, StepError
from pipeline.files import files_for
from pipeline.models import Draft, InsightPack, Provenance, QAReport, Transcript, VoiceProfile
from pipeline.options import JobOptions, RunRequest
from pipeline.plans import check_quota, estimate_minutes
from pipeline.quarantine import parse_transcript
from pipeline.redis_server import RedisUnavailable
from pipeline.settings import Settings, get_settings
from pipeline.stages import DONE, FAILED, JobStatus, Move, load_pipeline
from pipeline.store import Database, get_store, transaction
from pipeline.store import artifacts as artifact_rows
from pipeline.store import jobs as job_rows
from pipeline.store import people as people_rows
from pipeline.store import steps as step_rows
from pipeline.store import usage as usage_rows
from pipeline.store import views as view_rows
from pipeline.store import voices as voice_rows
from pipeline.store.runs import fail_job, queue_stage, resume
from pipeline.transcript import check_size

__all__ = [
    "Submission",
    "job_options",
    "submit",
    "submit_sample",
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
    "regenerate",
    "edit_draft",
    "workers_alive",
    "configure_workspace",
    "rotate_webhook_secret",
    "voice_profile",
    "save_voice_profile",
    "voice_history",
    "run_voice",
    "read_transcript_file",
    "save_upload",
]


@dataclass(frozen=True)
class Submission:
    job_id: str
    status: str
    duplicate: bool
    enqueued: bool
    #: What the creator should know about how their file was read (its encoding), if anything.
    note: str | None = None


def _store(settings: Settings | None):
    return get_store(settings or get_settings())


def read_transcript_file(path: str | Path) -> tuple[bytes, str]:
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"transcript file not found: {path}")
    check_size(path.stat().st_size)
    return path.read_bytes(), path.name


def save_upload(data: bytes | BinaryIO, filename: str, settings: Settings | None = None) -> Path:
    """Keep an uploaded file (its bytes, or a binary stream read in chunks) under the data dir and
    return its path, for ``submit(path)``. Content-addressed, so the same upload twice is one file
    (and one job while it runs). A stream longer than the upload cap is refused while it is read."""
    settings = settings or get_settings()
    files = files_for(settings)
    if isinstance(data, bytes):
        return files.path(files.keep_upload(data, filename))
    partial = settings.media_dir / f".upload-{secrets.token_hex(8)}.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        _copy_capped(data, partial, settings.max_upload_mb * 1_000_000)
        return files.path(files.keep_upload(partial, filename))
    finally:
        partial.unlink(missing_ok=True)


def _copy_capped(stream: BinaryIO, target: Path, max_bytes: int) -> None:
    size = 0
    with open(target, "wb") as out:
        while chunk := stream.read(1024 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise InvalidInput(f"the upload is larger than {max_bytes / 1e6:.0f} MB", field="media")
            out.write(chunk)


def job_options(
    chosen: list[str] | None = None,
    tone: str = "friendly",
    cta_url: str | None = None,
    *,
    speaker: str | None = None,
    title: str | None = None,
) -> JobOptions:
    """The options of a submission from what a person typed or picked (``chosen``: draft format
    names, None for the default set); what cannot be used is an InvalidInput that names the
    problem (the rules themselves live in :class:`JobOptions`)."""
    fields = {"tone": tone, "cta_url": cta_url, "speaker": speaker, "title": title}
    if chosen is not None:
        fields["formats"] = [str(name).strip() for name in chosen]
    try:
        return JobOptions(**fields)
    except ValidationError as exc:
        raise InvalidInput(_first_problem(exc), field=_first_field(exc)) from None


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
    return _submit(source, transcript, transcript_name, workspace, options, caller, settings, idempotency_key)


def submit_sample(
    name: str,
    *,
    workspace: str | None = None,
    options: JobOptions | None = None,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> Submission:
    """Run one of the bundled sample transcripts (by file name). A sample run is free: the plan
    neither checks nor counts it."""
    from pipeline.datasets import SAMPLES_DIR

    bundled = {path.name: path for path in SAMPLES_DIR.glob("*.srt")}
    if name not in bundled:
        raise InvalidInput(f"no bundled sample named {name!r} (samples: {', '.join(sorted(bundled))})")
    data, filename = read_transcript_file(bundled[name])
    return _submit(None, data, filename, workspace, options, caller, settings, plan_exempt="sample")


def _submit(
    source: str | None,
    transcript: bytes | str | None,
    transcript_name: str,
    workspace: str | None,
    options: JobOptions | None,
    caller: Caller | None,
    settings: Settings | None,
    idempotency_key: str | None = None,
    plan_exempt: str | None = None,
) -> Submission:
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
    if idempotency_key is not None and len(idempotency_key) > 255:
        raise InvalidInput("the Idempotency-Key is longer than 255 characters", field="Idempotency-Key")
    same = [kind, fingerprint, options.model_dump(mode="json")] + ([plan_exempt] if plan_exempt else [])
    note = parsed.encoding_note if parsed else None
    created = access.run(
        _submit_job,
        caller,
        settings=settings,
        workspace=workspace,
        kind=kind,
        label=label,
        options=options.model_dump(mode="json"),
        same=same,
        transcript=parsed.model_dump_json() if parsed is not None else None,
        duration_s=parsed.duration if parsed is not None else None,
        plan_exempt=plan_exempt,
        idempotency_key=idempotency_key,
    )
    job, attempts = created["job"], created["attempts"]
    if created["duplicate"]:
        return Submission(job["job_id"], job["status"], duplicate=True, enqueued=True, note=note)
    enqueued = queue.try_enqueue(attempts, settings)
    return Submission(job["job_id"], job["status"], duplicate=False, enqueued=enqueued, note=note)


@transaction
def _submit_job(
    db: Database,
    caller: Caller,
    *,
    workspace: str | None,
    kind,
    label,
    options: dict,
    same: list,
    transcript: str | None,
    duration_s,
    plan_exempt: str | None = None,
    idempotency_key: str | None = None,
) -> dict:
    """The job an earlier identical request made (the same Idempotency-Key, or the same source
    and options while that job is active), or a new one with its first stage queued (a transcript
    the plan cannot take is refused: nothing is created). Its minutes are held in this
    transaction, so concurrent submissions cannot overshoot the plan; a sample run is free."""
    who = resolve(db, caller)
    workspace = _workspace_of(who, workspace)
    require(who, Action.SUBMIT, workspace)
    usage_rows.ensure_workspace(db, workspace)
    key = _digest(json.dumps([workspace, *same]))
    earlier = _earlier_submission(db, workspace, key, idempotency_key)
    if earlier:
        return {"job": earlier, "duplicate": True, "attempts": []}
    actor = who.actor
    counted = duration_s is not None and not plan_exempt
    if counted:
        try:
            check_quota(usage_rows.plan_status(db, workspace), duration_s)
        except StepError as exc:
            raise QuotaExceeded(exc.message) from None
    job = job_rows.create_job(
        db,
        workspace=workspace,
        source_kind=kind,
        source=label,
        options=options,
        dedupe_key=key,
        actor=actor,
        plan_exempt=plan_exempt,
    )
    if counted:
        usage_rows.reserve_minutes(db, workspace, job["job_id"], estimate_minutes(duration_s))
    first = load_pipeline(get_settings().pipeline).first().name
    run = job_rows.create_run(db, job["job_id"], first, "submitted")
    if transcript is not None:
        keys = {"job_id": job["job_id"], "run_id": run["run_id"], "step": "submit"}
        artifact_rows.save_artifact(db, kind="provided_transcript", content=transcript, **keys)
    if idempotency_key:
        people_rows.remember_request(db, workspace, idempotency_key, key, job["job_id"])
    return {"job": job, "duplicate": False, "attempts": queue_stage(db, job, run["run_id"], first)}


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
    raise InvalidInput(f"{who.actor} is a member of {', '.join(mine)}: say which workspace", field="workspace")


def _earlier_submission(db: Database, workspace: str, key: str, idempotency_key: str | None) -> dict | None:
    """The job an earlier identical request made: the same Idempotency-Key (whatever became of
    its job), or the same source and options while that job is still active."""
    if idempotency_key:
        seen = people_rows.idempotent_request(db, workspace, idempotency_key)
        if seen and seen["request_hash"] != key:
            raise Conflict(
                f"the Idempotency-Key {idempotency_key!r} was used for another request (job {seen['job_id']})"
            )
        if seen:
            return job_rows.get_job(db, seen["job_id"])
    existing = job_rows.find_active_duplicate(db, workspace, key)
    if not existing:
        return None
    if idempotency_key:
        people_rows.remember_request(db, workspace, idempotency_key, key, existing["job_id"])
    return job_rows.get_job(db, existing["job_id"])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- Following a job ---------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


def status_report(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> dict:
    """The status contract of ``python -m pipeline status --json`` and ``GET /api/jobs/{id}``:
    status, runs with every step attempt and its error, artifacts, and how far the job is."""
    found = access.run(_job_rows, caller, job_id, settings=settings)
    job, runs, attempts, artifacts = found["job"], found["runs"], found["attempts"], found["artifacts"]
    voices = found["voices"]
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
        "runs": [_run_report(run, attempts) | {"voice_version": voices.get(run["run_id"])} for run in runs],
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
    """What an active job waits for or runs right now, in words: ``finding insights (try 2)``."""
    parts = []
    for attempt in pending:
        again = f" (try {attempt['attempt']})" if attempt["attempt"] > 1 else ""
        when = {"scheduled": ": retry scheduled", "queued": ": waiting for a worker"}.get(attempt["status"], "")
        parts.append(f"{wording.step_words(attempt['step'])}{again}{when}")
    return ", ".join(parts)


@transaction(writes=False)
def _job_rows(db: Database, caller: Caller, job_id: str) -> dict:
    return {
        "job": job_for(db, resolve(db, caller), job_id),
        "runs": job_rows.list_runs(db, job_id),
        "attempts": step_rows.attempts_for_job(db, job_id),
        "artifacts": artifact_rows.latest_artifacts(db, job_id, content=False),
        "voices": voice_rows.job_pins(db, job_id),
    }


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
    found = access.run(_bundle_rows, caller, job_id, settings=settings)
    job, drafts = found["job"], {fmt: Draft.model_validate(d) for fmt, d in found["drafts"].items()}
    transcript = _model(found["transcript"] or found["provided_transcript"], Transcript)
    insights, report = _model(found["insights"], InsightPack), _model(found["qa_report"], QAReport)
    if transcript is None:
        raise InvalidInput(f"job {job_id} has no transcript yet (status {job['status']}); nothing to export")
    return export.bundle_files(job=job, transcript=transcript, insights=insights, drafts=drafts, qa_report=report)


def export_job(
    job_id: str, out_dir: str | Path, *, caller: Caller | None = None, settings: Settings | None = None
) -> list[Path]:
    return export.write_bundle(Path(out_dir), bundle_files_for(job_id, caller=caller, settings=settings))


@transaction(writes=False)
def _bundle_rows(db: Database, caller: Caller, job_id: str) -> dict:
    found = {"job": job_for(db, resolve(db, caller), job_id)}
    for kind in ("transcript", "provided_transcript", "insights", "qa_report"):
        row = artifact_rows.load_artifact(db, job_id, kind)
        found[kind] = row["content"] if row else None
    found["drafts"] = {fmt: row["draft"].model_dump() for fmt, row in artifact_rows.latest_drafts(db, job_id).items()}
    return found


def _model(content: str | None, model):
    return model.model_validate_json(content) if content else None


def drafts(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> list[dict]:
    """The latest version of each draft, in the usual order of formats."""
    latest = access.run(_latest_drafts, caller, job_id, settings=settings)
    return [_draft_version(latest[fmt]) for fmt in formats.in_order(latest)]


@transaction(writes=False)
def _latest_drafts(db: Database, caller: Caller, job_id: str) -> dict[str, dict]:
    job_for(db, resolve(db, caller), job_id)
    return artifact_rows.latest_drafts(db, job_id)


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
    found = access.run(_artifact_of, caller, job_id, ("insights",), settings=settings)
    if found["content"] is None:
        raise NotFound(f"job {job_id} has no insight pack yet (status {found['status']})")
    return InsightPack.model_validate_json(found["content"])


TRANSCRIPT_FORMATS = ("srt", "vtt", "txt")


def transcript(job_id: str, fmt: str = "srt", *, caller: Caller | None = None, settings: Settings | None = None) -> str:
    """The job's transcript as SRT, WebVTT or plain text."""
    if fmt not in TRANSCRIPT_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(TRANSCRIPT_FORMATS)}", field="format")
    found = access.run(_artifact_of, caller, job_id, ("transcript", "provided_transcript"), settings=settings)
    if found["content"] is None:
        raise NotFound(f"job {job_id} has no transcript yet (status {found['status']})")
    parsed = Transcript.model_validate_json(found["content"])
    return {"srt": parsed.to_srt, "vtt": parsed.to_vtt, "txt": parsed.to_txt}[fmt]()


@transaction(writes=False)
def _artifact_of(db: Database, caller: Caller, job_id: str, kinds: list[str]) -> dict:
    """The job's status and the first of ``kinds`` it has (its content, None when it has none)."""
    job = job_for(db, resolve(db, caller), job_id)
    for kind in kinds:
        row = artifact_rows.load_artifact(db, job_id, kind)
        if row:
            return {"status": job["status"], "content": row["content"]}
    return {"status": job["status"], "content": None}


# --- People moving jobs on ---------------------------------------------------------------


def approve(
    job_id: str, *, note: str | None = None, caller: Caller | None = None, settings: Settings | None = None
) -> str:
    """An editor approves flagged drafts: REQUIRES_MANUAL_REVIEW -> REVIEWED -> delivery."""
    status, attempts = access.run(_approve, caller, job_id, note, settings=settings)
    queue.try_enqueue(attempts, settings)
    return status


@transaction
def _approve(db: Database, caller: Caller, job_id: str, note: str | None) -> tuple[str, list[dict]]:
    who = resolve(db, caller)
    job = _job_in(db, who, job_id, Action.REVIEW, JobStatus.REQUIRES_MANUAL_REVIEW, "approve")
    run = job_rows.latest_run(db, job_id)
    job_rows.record_review(db, job_id, run["run_id"], "approved", note, who.actor)
    job_rows.reopen_run(db, run["run_id"])  # the run QA paused goes on
    reason = note or f"approved by {who.actor}"
    waiting = JobStatus.REQUIRES_MANUAL_REVIEW
    attempts = resume(db, job, waiting, reason=reason, actor=who.actor, run_id=run["run_id"])
    return job_rows.get_job(db, job_id)["status"], attempts


def reject(job_id: str, *, reason: str, caller: Caller | None = None, settings: Settings | None = None) -> str:
    if not reason or not reason.strip():
        raise InvalidInput("a rejection needs a reason (--reason)", field="reason")
    return access.run(_reject, caller, job_id, reason.strip(), settings=settings)


@transaction
def _reject(db: Database, caller: Caller, job_id: str, reason: str) -> str:
    who = resolve(db, caller)
    _job_in(db, who, job_id, Action.REVIEW, JobStatus.REQUIRES_MANUAL_REVIEW, "reject")
    run = job_rows.latest_run(db, job_id)
    job_rows.record_review(db, job_id, run["run_id"], "rejected", reason, who.actor)
    error = StepError(ErrorCode.REJECTED, f"rejected: {reason}")
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
    found = access.run(_provide_transcript, caller, job_id, parsed.model_dump_json(), filename, settings=settings)
    status, attempts = found
    queue.try_enqueue(attempts, settings)
    return status


@transaction
def _provide_transcript(db: Database, caller: Caller, job_id: str, transcript: str, filename: str):
    who = resolve(db, caller)
    waiting = JobStatus.NEEDS_USER_INPUT
    stage, _status, _move = load_pipeline(get_settings().pipeline).resume_point(waiting)
    job = _job_in(db, who, job_id, Action.PROVIDE_TRANSCRIPT, waiting, "provide a transcript for")
    run = job_rows.create_run(db, job_id, stage.name, "transcript provided")
    keys = {"job_id": job_id, "run_id": run["run_id"], "step": "submit"}
    artifact_rows.save_artifact(db, kind="provided_transcript", content=transcript, **keys)
    reason = f"transcript {filename} provided"
    attempts = resume(db, job, waiting, reason=reason, actor=who.actor, run_id=run["run_id"])
    return job_rows.get_job(db, job_id)["status"], attempts


def cancel(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> str:
    return access.run(_cancel, caller, job_id, settings=settings)


@transaction
def _cancel(db: Database, caller: Caller, job_id: str) -> str:
    who = resolve(db, caller)
    job = job_for(db, who, job_id, Action.CANCEL)
    if JobStatus(job["status"]).terminal:
        raise Conflict(f"job {job_id} is already {job['status']}; nothing to cancel")
    run = job_rows.latest_run(db, job_id)
    error = StepError(ErrorCode.CANCELLED, f"cancelled by {who.actor}")
    fail_job(db, job_id, run["run_id"], JobStatus.FAILED, error, move=Move.CANCEL, actor=who.actor)
    return JobStatus.FAILED.value


def retry(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> str:
    """A new run from the stage that failed, for a job that failed or was blocked."""
    found = access.run(_job_rows, caller, job_id, settings=settings)
    status = JobStatus(found["job"]["status"])
    failures = [a for a in found["attempts"] if a["status"] == "failed"]
    failed = max(failures, key=lambda a: (a["finished_at"], a["id"]))["step"] if failures else None
    if status not in FAILED:
        raise Conflict(f"job {job_id} is {status.value}; only a failed or blocked job can be retried (re-run a step)")
    pipeline = load_pipeline((settings or get_settings()).pipeline)
    stage = pipeline.stage_of(failed).name if failed else pipeline.first().name
    return _start_again(job_id, stage, Action.RETRY, f"retry from {stage}", caller, settings, keep_request=True)


def rerun(
    job_id: str, stage: str, *, caller: Caller | None = None, reason: str = "re-run", settings: Settings | None = None
) -> str:
    """Regenerate ``stage`` and everything after it in a new run; what came before is reused."""
    return _start_again(job_id, stage, Action.RERUN, f"{reason} from {stage}", caller, settings)


def _start_again(job_id: str, stage: str, action: Action, why: str, caller: Caller | None, settings, **request) -> str:
    settings = settings or get_settings()
    pipeline = load_pipeline(settings.pipeline)
    stage = pipeline.stage(stage).name  # an unknown name is refused with the list of stages
    target, attempts = access.run(_rerun, caller, job_id, stage, action, why, settings=settings, **request)
    queue.try_enqueue(attempts, settings)
    return target


def regenerate(
    job_id: str,
    fmt: str,
    instruction: str | None = None,
    *,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> str:
    """Write one draft again, following the creator's instruction when there is one ("shorter",
    "lead with the story"): a new run of that draft's step alone, then QA over the job's latest
    drafts and delivery, as for any re-run. The old version stays in the history; the new one
    is recorded as regenerated, with the instruction. Returns the job's status."""
    settings = settings or get_settings()
    spec = formats.get(fmt)
    try:
        request = RunRequest(formats=[spec.name], instruction=instruction)
    except ValidationError as exc:
        raise InvalidInput(_first_problem(exc), field=_first_field(exc)) from None
    stage = load_pipeline(settings.pipeline).stage_of(spec.task).name
    why = f"regenerate the {spec.label}" + (f" ({request.instruction})" if request.instruction else "")
    return _start_again(job_id, stage, Action.EDIT_DRAFT, why, caller, settings, request=request.model_dump())


def _first_problem(exc: ValidationError) -> str:
    return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")


def _first_field(exc: ValidationError) -> str | None:
    location = exc.errors()[0]["loc"]
    return str(location[0]) if location else None


@transaction
def _rerun(
    db: Database,
    caller: Caller,
    job_id: str,
    stage: str,
    action: str,
    why: str,
    request: dict | None = None,
    keep_request: bool = False,
) -> tuple[str, list[dict]]:
    """A new run from ``stage``: with ``request``, one that asks more than the job's options (a
    regenerated draft); with ``keep_request``, one that asks what the job's last run asked (a
    retry of a regenerated draft regenerates it again)."""
    who = resolve(db, caller)
    job = job_for(db, who, job_id, Action(action))
    if JobStatus(job["status"]).active:
        raise Conflict(f"job {job_id} is still running ({job['status']}); cancel it first or wait")
    if keep_request:
        request = job_rows.run_request(db, job_rows.latest_run(db, job_id)["run_id"])
    _check_formats(job, request)
    run = job_rows.create_run(db, job_id, stage, why)
    if request:
        job_rows.save_run_request(db, run["run_id"], request, who.actor)
    target = load_pipeline(get_settings().pipeline).status_before(stage)
    job_rows.set_status(db, job_id, target, move=Move.RERUN, reason=why, run_id=run["run_id"], actor=who.actor)
    return target.value, queue_stage(db, job, run["run_id"], stage)


def _check_formats(job: dict, request: dict | None) -> None:
    missing = [name for name in (request or {}).get("formats") or [] if name not in job["options"]["formats"]]
    if missing:
        raise InvalidInput(f"job {job['job_id']} has no {formats.label(missing[0])} draft to regenerate")


def edit_draft(
    job_id: str,
    fmt: str,
    *,
    title: str,
    body: str,
    posts: list[str] | None = None,
    expected_version: int | None = None,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> int:
    """Save an edit as a new version, then re-run QA on it: the job's QA report and score change
    with the saved text. A save based on a version that is no longer the latest raises Conflict
    carrying the latest version (``current``), so nobody overwrites a colleague."""
    spec = formats.get(fmt)
    if not body.strip() and not posts:
        raise InvalidInput("the draft is empty; write something or leave the editor without saving", field="body")
    draft = Draft(format=spec.name, title=title.strip() or spec.label, body=body, posts=posts or [])
    version, basis = access.run(_save_edit, caller, job_id, draft, expected_version, settings=settings)
    if basis is not None:
        report = qa.recheck(
            basis["report"],
            draft,
            basis["transcript"],
            options=basis["options"],
            insights=basis["insights"],
            voice=basis["voice"],
            drafts=basis["drafts"],
        )
        _store(settings).run(_save_recheck, job_id, basis["run_id"], report)
    return version


@transaction
def _save_edit(db: Database, caller: Caller, job_id: str, draft: Draft, expected_version: int | None):
    """The new version, and what QA compares it with (None until QA has run once)."""
    who = resolve(db, caller)
    job = job_for(db, who, job_id, Action.EDIT_DRAFT)
    latest = artifact_rows.latest_drafts(db, job_id).get(draft.format)
    label = formats.label(draft.format)
    if latest is None:
        raise NotFound(f"job {job_id} has no {label} draft yet")
    if expected_version is not None and latest["version"] != expected_version:
        raise Conflict(
            f"the {label} draft was saved by {latest['author']} (version {latest['version']}) after you "
            f"opened version {expected_version}; reload to see their changes, then apply yours again",
            current=_draft_version(latest),
        )
    version = artifact_rows.add_draft_version(
        db,
        job_id,
        draft,
        source="edit",
        author=who.actor,
        expected_version=expected_version,
        note="edited",
        label=formats.label(draft.format),
    )
    return version, _qa_basis(db, job)


def _qa_basis(db: Database, job: dict) -> dict | None:
    report = _stored_model(db, job["job_id"], "qa_report", QAReport)
    transcript = _stored_model(db, job["job_id"], "transcript", Transcript) or _stored_model(
        db, job["job_id"], "provided_transcript", Transcript
    )
    if report is None or transcript is None:
        return None
    run = job_rows.latest_run(db, job["job_id"])
    return {
        "run_id": run["run_id"],
        "report": report,
        "transcript": transcript,
        "insights": _stored_model(db, job["job_id"], "insights", InsightPack),
        "options": JobOptions.model_validate(job["options"]),
        "drafts": {name: row["draft"] for name, row in artifact_rows.latest_drafts(db, job["job_id"]).items()},
        "voice": voice_rows.pinned_profile(db, run["run_id"]),
    }


def _stored_model(db: Database, job_id: str, kind: str, model):
    row = artifact_rows.load_artifact(db, job_id, kind)
    return model.model_validate_json(row["content"]) if row else None


@transaction
def _save_recheck(db: Database, job_id: str, run_id: str, report: QAReport) -> None:
    keys = {"job_id": job_id, "run_id": run_id, "step": "edit"}
    provenance = Provenance(provider="rules", model="qa-rules")
    artifact_rows.save_artifact(db, kind="qa_report", content=report.model_dump_json(), provenance=provenance, **keys)
    job_rows.update_job(db, job_id, qa_score=min(r.score for r in report.drafts))


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
    """A workspace's plan and webhook (owners change them; members read them). The administrator
    creates a workspace by naming it. Setting a first webhook makes the workspace's signing
    secret: it is in the answer (``webhook_secret``) this once and never again."""
    settings = settings or get_settings()
    if webhook_url is not None:
        webhook_url = _checked_webhook(webhook_url, settings)
    changes = (name, plan, webhook_url, clear_webhook)
    info, key_id = access.run(_configure_workspace, caller, *changes, settings=settings)
    shown = {"webhook_secret": signing.workspace_secret(settings, name, key_id)} if key_id else {}
    return {**info, **shown}


@transaction
def _configure_workspace(
    db: Database, caller: Caller, name: str, plan, webhook_url, clear_webhook: bool
) -> tuple[dict, str | None]:
    changing = plan is not None or webhook_url is not None or clear_webhook
    require(resolve(db, caller), Action.CONFIGURE_WORKSPACE if changing else Action.READ, name)
    info = usage_rows.configure_workspace(db, name, plan=plan, webhook_url=webhook_url, clear_webhook=clear_webhook)
    key_id = signing.new_key_id() if info.webhook_url and not info.webhook_key_id else None
    if key_id:
        usage_rows.set_webhook_key(db, name, key_id)
    status = usage_rows.plan_status(db, name)
    return {**info.model_dump(exclude={"webhook_key_id"}), **status.model_dump()}, key_id


def _checked_webhook(url: str, settings: Settings) -> str:
    try:
        return urlguard.check_url(url, allow_private=settings.allow_private_urls)
    except urlguard.UnsafeURL as exc:
        raise InvalidInput(f"webhook refused: {exc}", field="webhook_url") from None


def rotate_webhook_secret(name: str, *, caller: Caller | None = None, settings: Settings | None = None) -> str:
    """A new signing secret for the workspace's webhooks, returned this once; the old one stops
    working with the next delivery."""
    settings = settings or get_settings()
    key_id = signing.new_key_id()
    access.run(_set_webhook_key, caller, name, key_id, settings=settings)
    return signing.workspace_secret(settings, name, key_id)


@transaction
def _set_webhook_key(db: Database, caller: Caller, name: str, key_id: str) -> None:
    require(resolve(db, caller), Action.CONFIGURE_WORKSPACE, name)
    usage_rows.get_workspace(db, name)
    usage_rows.set_webhook_key(db, name, key_id)


# --- Brand voice ----------------------------------------------------------------------------


def voice_profile(
    workspace: str = defaults.DEFAULT_WORKSPACE, *, caller: Caller | None = None, settings: Settings | None = None
) -> VoiceProfile:
    """The workspace's current voice profile (an empty one, version 0, when none was saved)."""
    return access.run(_voice_profile, caller, workspace, settings=settings) or VoiceProfile()


@transaction(writes=False)
def _voice_profile(db: Database, caller: Caller, workspace: str) -> VoiceProfile | None:
    require(resolve(db, caller), Action.READ, workspace)
    return voice_rows.latest_profile(db, workspace)


def save_voice_profile(
    workspace: str,
    profile: VoiceProfile,
    *,
    note: str | None = None,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> int:
    """Save ``profile`` as the workspace's next version (owners only; earlier versions stay, and
    runs keep the version they were pinned to); returns the new version."""
    return access.run(_save_voice, caller, workspace, profile, note, settings=settings)


@transaction
def _save_voice(db: Database, caller: Caller, workspace: str, profile: VoiceProfile, note: str | None) -> int:
    who = resolve(db, caller)
    require(who, Action.EDIT_VOICE, workspace)
    usage_rows.ensure_workspace(db, workspace)
    return voice_rows.save_profile(db, workspace, profile, by=who.actor, note=note)


def voice_history(
    workspace: str = defaults.DEFAULT_WORKSPACE, *, caller: Caller | None = None, settings: Settings | None = None
) -> list[dict]:
    return access.run(_voice_history, caller, workspace, settings=settings)


@transaction(writes=False)
def _voice_history(db: Database, caller: Caller, workspace: str) -> list[dict]:
    require(resolve(db, caller), Action.READ, workspace)
    return voice_rows.profile_history(db, workspace)


def run_voice(run_id: str, settings: Settings | None = None) -> VoiceProfile | None:
    """The voice profile a run wrote in (None: the workspace had none, or the run made nothing)."""
    return _store(settings).run(voice_rows.pinned_profile, run_id)
