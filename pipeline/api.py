"""What people do with jobs — submit, follow, export, review, provide a transcript, cancel,
retry, re-run, edit drafts. The CLI, the pages and the notebooks call these and nothing lower.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline import defaults, export, queue
from pipeline.errors import Conflict, ErrorCode, InvalidInput, StepError
from pipeline.models import Draft, DraftFormat, InsightPack, JobOptions, QAReport, Transcript
from pipeline.redis_server import RedisUnavailable
from pipeline.runner import fail_job, queue_stage
from pipeline.settings import Settings, get_settings
from pipeline.states import RETRY_FROM, JobStatus, Move
from pipeline.steps import STAGES, stage_of, status_before
from pipeline.store import Database, get_store
from pipeline.store import artifacts as artifact_rows
from pipeline.store import jobs as job_rows
from pipeline.store import steps as step_rows
from pipeline.store import usage as usage_rows
from pipeline.transcript import parse_transcript

__all__ = [
    "Submission",
    "submit",
    "submit_sample",
    "status_report",
    "wait_for",
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


def _store(settings: Settings | None):
    return get_store(settings or get_settings())


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


def save_upload(data: bytes, filename: str, settings: Settings | None = None) -> Path:
    """Keep an uploaded file under the data dir and return its path, for ``submit(path)``.
    Content-addressed, so the same upload twice is one file (and one job while it runs)."""
    settings = settings or get_settings()
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in Path(filename).name)[-80:] or "upload"
    folder = settings.media_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_digest_bytes(data)[:16]}-{safe}"
    if not path.exists():
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def _digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def submit(
    source: str | None = None,
    *,
    transcript: bytes | str | None = None,
    transcript_name: str = "transcript.txt",
    workspace: str = defaults.DEFAULT_WORKSPACE,
    options: JobOptions | None = None,
    actor: str = "creator",
    settings: Settings | None = None,
) -> Submission:
    """Create a job (or return the active one for the same source and options)."""
    return _submit(source, transcript, transcript_name, workspace, options, actor, settings)


def submit_sample(
    name: str,
    *,
    workspace: str = defaults.DEFAULT_WORKSPACE,
    options: JobOptions | None = None,
    actor: str = "creator",
    settings: Settings | None = None,
) -> Submission:
    """Run one of the bundled sample transcripts (by file name). A sample run is free: the plan
    neither checks nor counts it."""
    from pipeline.datasets import SAMPLES_DIR

    bundled = {path.name: path for path in SAMPLES_DIR.glob("*.srt")}
    if name not in bundled:
        raise InvalidInput(f"no bundled sample named {name!r} (samples: {', '.join(sorted(bundled))})")
    data, filename = read_transcript_file(bundled[name])
    return _submit(None, data, filename, workspace, options, actor, settings, plan_exempt="sample")


def _submit(
    source: str | None,
    transcript: bytes | str | None,
    transcript_name: str,
    workspace: str,
    options: JobOptions | None,
    actor: str,
    settings: Settings | None,
    plan_exempt: str | None = None,
) -> Submission:
    settings = settings or get_settings()
    options = options or JobOptions()
    if transcript is not None:
        parsed = parse_transcript(transcript, transcript_name)
        kind, label, fingerprint = "transcript", source or transcript_name, _digest(parsed.model_dump_json())
    elif source:
        from pipeline import sources

        kind, label = sources.classify(source, settings)
        parsed, fingerprint = None, sources.fingerprint(kind, label)
    else:
        raise InvalidInput("give a source (a URL or a media file) or a transcript")
    same = [workspace, kind, fingerprint, options.model_dump(mode="json")] + ([plan_exempt] if plan_exempt else [])
    key = _digest(json.dumps(same))
    with _store(settings).session() as db:
        usage_rows.ensure_workspace(db, workspace)
        existing = job_rows.find_active_duplicate(db, workspace, key)
        if existing:
            job = job_rows.get_job(db, existing["job_id"])
            return Submission(job["job_id"], job["status"], duplicate=True, enqueued=True)
        attempts, job = _create(db, workspace, kind, label, options, key, parsed, actor, plan_exempt)
    return Submission(job["job_id"], job["status"], duplicate=False, enqueued=queue.try_enqueue(attempts, settings))


def _create(db: Database, workspace, kind, label, options, key, parsed: Transcript | None, actor, plan_exempt):
    job = job_rows.create_job(
        db,
        workspace=workspace,
        source_kind=kind,
        source=label,
        options=options.model_dump(mode="json"),
        dedupe_key=key,
        actor=actor,
        plan_exempt=plan_exempt,
    )
    run = job_rows.create_run(db, job["job_id"], "validate", "submitted")
    if parsed is not None:
        artifact_rows.save_artifact(
            db,
            job_id=job["job_id"],
            run_id=run["run_id"],
            step="submit",
            kind="provided_transcript",
            content=parsed.model_dump_json(),
        )
    return queue_stage(db, job, run["run_id"], "validate"), job


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- Following a job ---------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


def status_report(job_id: str, settings: Settings | None = None) -> dict:
    """The status contract of ``python -m pipeline status --json``."""
    with _store(settings).session() as db:
        job = job_rows.get_job(db, job_id)
        runs = job_rows.list_runs(db, job_id)
        attempts = step_rows.attempts_for_job(db, job_id)
        artifacts = artifact_rows.latest_artifacts(db, job_id, content=False)
    return {
        "job_id": job_id,
        "status": job["status"],
        "status_reason": job["status_reason"],
        "error_code": job["error_code"],
        "title": job["title"],
        "source": job["source"],
        "qa_score": job["qa_score"],
        "runs": [_run_report(run, attempts) for run in runs],
        "artifacts": [{"kind": a["kind"], "format": a["format"], "chars": a["chars"]} for a in artifacts],
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
    settings: Settings | None = None,
    poll_s: float = 0.25,
) -> dict:
    """Block until the job rests in a terminal status (or the timeout passes); return its report."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last = None
    while True:
        report = status_report(job_id, settings)
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


def bundle_files_for(job_id: str, settings: Settings | None = None) -> dict[str, str]:
    with _store(settings).session() as db:
        job = job_rows.get_job(db, job_id)
        transcript = _artifact(db, job_id, "transcript", Transcript) or _artifact(
            db, job_id, "provided_transcript", Transcript
        )
        insights = _artifact(db, job_id, "insights", InsightPack)
        report = _artifact(db, job_id, "qa_report", QAReport)
        drafts = {fmt: row["draft"] for fmt, row in artifact_rows.latest_drafts(db, job_id).items()}
    if transcript is None:
        raise InvalidInput(f"job {job_id} has no transcript yet (status {job['status']}); nothing to export")
    return export.bundle_files(job=job, transcript=transcript, insights=insights, drafts=drafts, qa_report=report)


def export_job(job_id: str, out_dir: str | Path, settings: Settings | None = None) -> list[Path]:
    return export.write_bundle(Path(out_dir), bundle_files_for(job_id, settings))


def _artifact(db: Database, job_id: str, kind: str, model):
    row = artifact_rows.load_artifact(db, job_id, kind)
    return model.model_validate_json(row["content"]) if row else None


# --- People moving jobs on ---------------------------------------------------------------


def approve(job_id: str, *, editor: str = "editor", note: str | None = None, settings: Settings | None = None) -> str:
    """An editor approves flagged drafts: REQUIRES_MANUAL_REVIEW -> REVIEWED -> delivery."""
    with _store(settings).session() as db:
        job = _job_in(db, job_id, JobStatus.REQUIRES_MANUAL_REVIEW, "approve")
        run = job_rows.latest_run(db, job_id)
        job_rows.record_review(db, job_id, run["run_id"], "approved", note, editor)
        job_rows.reopen_run(db, run["run_id"])  # delivery continues the run QA paused
        job_rows.set_status(
            db,
            job_id,
            JobStatus.REVIEWED,
            move=Move.APPROVE,
            reason=note or "approved by an editor",
            run_id=run["run_id"],
            actor=editor,
        )
        attempts = queue_stage(db, job, run["run_id"], "deliver")
    queue.try_enqueue(attempts, settings)
    return JobStatus.REVIEWED.value


def reject(job_id: str, *, reason: str, editor: str = "editor", settings: Settings | None = None) -> str:
    if not reason or not reason.strip():
        raise InvalidInput("a rejection needs a reason (--reason)")
    with _store(settings).session() as db:
        _job_in(db, job_id, JobStatus.REQUIRES_MANUAL_REVIEW, "reject")
        run = job_rows.latest_run(db, job_id)
        job_rows.record_review(db, job_id, run["run_id"], "rejected", reason.strip(), editor)
        error = StepError(ErrorCode.REJECTED, f"rejected: {reason.strip()}")
        fail_job(db, job_id, run["run_id"], JobStatus.FAILED, error, move=Move.REJECT, actor=editor)
    return JobStatus.FAILED.value


def _job_in(db: Database, job_id: str, status: JobStatus, action: str) -> dict:
    job = job_rows.get_job(db, job_id)
    if job["status"] != status.value:
        raise Conflict(f"cannot {action} job {job_id}: it is {job['status']}, not {status.value}")
    return job


def provide_transcript(
    job_id: str, data: bytes | str, filename: str, *, actor: str = "creator", settings: Settings | None = None
) -> str:
    """A creator's transcript for a job that waits for one: resume from transcription."""
    parsed = parse_transcript(data, filename)
    with _store(settings).session() as db:
        job = _job_in(db, job_id, JobStatus.NEEDS_USER_INPUT, "provide a transcript for")
        run = job_rows.create_run(db, job_id, "transcribe", "transcript provided")
        artifact_rows.save_artifact(
            db,
            job_id=job_id,
            run_id=run["run_id"],
            step="submit",
            kind="provided_transcript",
            content=parsed.model_dump_json(),
        )
        job_rows.set_status(
            db,
            job_id,
            JobStatus.INGESTED,
            move=Move.PROVIDE,
            reason=f"transcript {filename} provided",
            run_id=run["run_id"],
            actor=actor,
        )
        attempts = queue_stage(db, job, run["run_id"], "transcribe")
    queue.try_enqueue(attempts, settings)
    return JobStatus.INGESTED.value


def cancel(job_id: str, *, actor: str = "creator", settings: Settings | None = None) -> str:
    with _store(settings).session() as db:
        job = job_rows.get_job(db, job_id)
        if JobStatus(job["status"]).terminal:
            raise Conflict(f"job {job_id} is already {job['status']}; nothing to cancel")
        run = job_rows.latest_run(db, job_id)
        error = StepError(ErrorCode.CANCELLED, f"cancelled by {actor}")
        fail_job(db, job_id, run["run_id"], JobStatus.FAILED, error, move=Move.CANCEL, actor=actor)
    return JobStatus.FAILED.value


def retry(job_id: str, *, actor: str = "creator", settings: Settings | None = None) -> str:
    """A new run from the stage that failed, for a job that failed or was blocked."""
    with _store(settings).session() as db:
        status = JobStatus(job_rows.get_job(db, job_id)["status"])
        failed = step_rows.last_failed_step(db, job_id)
    if status not in RETRY_FROM:
        raise Conflict(f"job {job_id} is {status.value}; only a failed or blocked job can be retried (re-run a step)")
    stage = stage_of(failed) if failed else "validate"
    return rerun(job_id, stage, actor=actor, reason="retry", settings=settings)


def rerun(
    job_id: str, stage: str, *, actor: str = "creator", reason: str = "re-run", settings: Settings | None = None
) -> str:
    """Regenerate ``stage`` and everything after it in a new run; what came before is reused."""
    if stage not in STAGES:
        raise InvalidInput(f"no step named {stage!r}; choose one of {', '.join(STAGES)}")
    with _store(settings).session() as db:
        job = job_rows.get_job(db, job_id)
        if JobStatus(job["status"]).active:
            raise Conflict(f"job {job_id} is still running ({job['status']}); cancel it first or wait")
        run = job_rows.create_run(db, job_id, stage, f"{reason} from {stage}")
        target = status_before(stage)
        job_rows.set_status(
            db, job_id, target, move=Move.RERUN, reason=f"{reason} from {stage}", run_id=run["run_id"], actor=actor
        )
        attempts = queue_stage(db, job, run["run_id"], stage)
    queue.try_enqueue(attempts, settings)
    return target.value


def edit_draft(
    job_id: str,
    fmt: str | DraftFormat,
    *,
    title: str,
    body: str,
    posts: list[str] | None = None,
    editor: str = "editor",
    expected_version: int | None = None,
    settings: Settings | None = None,
) -> int:
    """Save an edit as a new version; a save that races another one raises Conflict."""
    fmt = DraftFormat(fmt)
    if not body.strip() and not posts:
        raise InvalidInput("the draft is empty; write something or leave the editor without saving")
    draft = Draft(format=fmt, title=title.strip() or fmt.label, body=body, posts=posts or [])
    with _store(settings).session() as db:
        job_rows.get_job(db, job_id)
        return artifact_rows.add_draft_version(
            db, job_id, draft, source="edit", author=editor, expected_version=expected_version, note="edited"
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
    settings: Settings | None = None,
) -> dict:
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise InvalidInput("the webhook URL must start with http:// or https://")
    with _store(settings).session() as db:
        info = usage_rows.configure_workspace(db, name, plan=plan, webhook_url=webhook_url, clear_webhook=clear_webhook)
        status = usage_rows.plan_status(db, name)
    return {**info.model_dump(), **status.model_dump()}
