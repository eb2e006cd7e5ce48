"""What people do with jobs — submit, follow, export, review, provide a transcript, cancel,
retry, re-run, regenerate a draft, edit drafts. The CLI, the pages and the notebooks call these
and nothing lower.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from pipeline import defaults, export, formats, qa, queue, signing, sources, urlguard
from pipeline.errors import Conflict, ErrorCode, InvalidInput, QuotaExceeded, StepError
from pipeline.files import files_for
from pipeline.models import Draft, InsightPack, Provenance, QAReport, Transcript, VoiceProfile
from pipeline.options import JobOptions, RunRequest
from pipeline.plans import check_quota, estimate_minutes
from pipeline.quarantine import parse_transcript
from pipeline.redis_server import RedisUnavailable
from pipeline.settings import Settings, get_settings
from pipeline.stages import FAILED, JobStatus, Move, load_pipeline
from pipeline.store import Database, get_store, transaction
from pipeline.store import artifacts as artifact_rows
from pipeline.store import jobs as job_rows
from pipeline.store import steps as step_rows
from pipeline.store import usage as usage_rows
from pipeline.store import voices as voice_rows
from pipeline.store.runs import fail_job, queue_stage, resume
from pipeline.transcript import check_size

__all__ = [
    "Submission",
    "job_options",
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


def save_upload(data: bytes, filename: str, settings: Settings | None = None) -> Path:
    """Keep an uploaded file under the data dir and return its path, for ``submit(path)``.
    Content-addressed, so the same upload twice is one file (and one job while it runs)."""
    files = files_for(settings or get_settings())
    return files.path(files.keep_upload(data, filename))


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
        raise InvalidInput(_first_problem(exc)) from None


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
    """Create a job (or return the active one for the same source and options). A transcript
    whose length the workspace's plan cannot take is refused here, before a job exists."""
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
        kind, label = sources.classify(source, settings)
        parsed, fingerprint = None, sources.fingerprint(kind, label)
    else:
        raise InvalidInput("give a source (a URL or a media file) or a transcript")
    same = [workspace, kind, fingerprint, options.model_dump(mode="json")] + ([plan_exempt] if plan_exempt else [])
    note = parsed.encoding_note if parsed else None
    created = _store(settings).run(
        _submit_job,
        workspace=workspace,
        kind=kind,
        label=label,
        options=options.model_dump(mode="json"),
        key=_digest(json.dumps(same)),
        transcript=parsed.model_dump_json() if parsed is not None else None,
        duration_s=parsed.duration if parsed is not None else None,
        actor=actor,
        plan_exempt=plan_exempt,
    )
    job, attempts = created["job"], created["attempts"]
    if created["duplicate"]:
        return Submission(job["job_id"], job["status"], duplicate=True, enqueued=True, note=note)
    enqueued = queue.try_enqueue(attempts, settings)
    return Submission(job["job_id"], job["status"], duplicate=False, enqueued=enqueued, note=note)


@transaction
def _submit_job(
    db: Database,
    *,
    workspace,
    kind,
    label,
    options: dict,
    key,
    transcript: str | None,
    duration_s,
    actor,
    plan_exempt: str | None = None,
) -> dict:
    """The active job for the same source and options, or a new one with its first stage queued
    (a transcript the plan cannot take is refused: nothing is created). Its minutes are held in
    this transaction, so concurrent submissions cannot overshoot the plan; a sample run is free."""
    usage_rows.ensure_workspace(db, workspace)
    existing = job_rows.find_active_duplicate(db, workspace, key)
    if existing:
        return {"job": job_rows.get_job(db, existing["job_id"]), "duplicate": True, "attempts": []}
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
    return {"job": job, "duplicate": False, "attempts": queue_stage(db, job, run["run_id"], first)}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- Following a job ---------------------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


def status_report(job_id: str, settings: Settings | None = None) -> dict:
    """The status contract of ``python -m pipeline status --json``."""
    found = _store(settings).run(_job_rows, job_id)
    job, runs, attempts, artifacts = found["job"], found["runs"], found["attempts"], found["artifacts"]
    voices = found["voices"]
    return {
        "job_id": job_id,
        "status": job["status"],
        "status_reason": job["status_reason"],
        "error_code": job["error_code"],
        "title": job["title"],
        "source": job["source"],
        "qa_score": job["qa_score"],
        "runs": [_run_report(run, attempts) | {"voice_version": voices.get(run["run_id"])} for run in runs],
        "artifacts": [{"kind": a["kind"], "format": a["format"], "chars": a["chars"]} for a in artifacts],
    }


@transaction(writes=False)
def _job_rows(db: Database, job_id: str) -> dict:
    return {
        "job": job_rows.get_job(db, job_id),
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
    found = _store(settings).run(_bundle_rows, job_id)
    job, drafts = found["job"], {fmt: Draft.model_validate(d) for fmt, d in found["drafts"].items()}
    transcript = _model(found["transcript"] or found["provided_transcript"], Transcript)
    insights, report = _model(found["insights"], InsightPack), _model(found["qa_report"], QAReport)
    if transcript is None:
        raise InvalidInput(f"job {job_id} has no transcript yet (status {job['status']}); nothing to export")
    return export.bundle_files(job=job, transcript=transcript, insights=insights, drafts=drafts, qa_report=report)


def export_job(job_id: str, out_dir: str | Path, settings: Settings | None = None) -> list[Path]:
    return export.write_bundle(Path(out_dir), bundle_files_for(job_id, settings))


@transaction(writes=False)
def _bundle_rows(db: Database, job_id: str) -> dict:
    found = {"job": job_rows.get_job(db, job_id)}
    for kind in ("transcript", "provided_transcript", "insights", "qa_report"):
        row = artifact_rows.load_artifact(db, job_id, kind)
        found[kind] = row["content"] if row else None
    found["drafts"] = {fmt: row["draft"].model_dump() for fmt, row in artifact_rows.latest_drafts(db, job_id).items()}
    return found


def _model(content: str | None, model):
    return model.model_validate_json(content) if content else None


# --- People moving jobs on ---------------------------------------------------------------


def approve(job_id: str, *, editor: str = "editor", note: str | None = None, settings: Settings | None = None) -> str:
    """An editor approves flagged drafts: REQUIRES_MANUAL_REVIEW -> REVIEWED -> delivery."""
    status, attempts = _store(settings).run(_approve, job_id, editor, note)
    queue.try_enqueue(attempts, settings)
    return status


@transaction
def _approve(db: Database, job_id: str, editor: str, note: str | None) -> tuple[str, list[dict]]:
    job = _job_in(db, job_id, JobStatus.REQUIRES_MANUAL_REVIEW, "approve")
    run = job_rows.latest_run(db, job_id)
    job_rows.record_review(db, job_id, run["run_id"], "approved", note, editor)
    job_rows.reopen_run(db, run["run_id"])  # the run QA paused goes on
    reason = note or "approved by an editor"
    waiting = JobStatus.REQUIRES_MANUAL_REVIEW
    attempts = resume(db, job, waiting, reason=reason, actor=editor, run_id=run["run_id"])
    return job_rows.get_job(db, job_id)["status"], attempts


def reject(job_id: str, *, reason: str, editor: str = "editor", settings: Settings | None = None) -> str:
    if not reason or not reason.strip():
        raise InvalidInput("a rejection needs a reason (--reason)")
    return _store(settings).run(_reject, job_id, reason.strip(), editor)


@transaction
def _reject(db: Database, job_id: str, reason: str, editor: str) -> str:
    _job_in(db, job_id, JobStatus.REQUIRES_MANUAL_REVIEW, "reject")
    run = job_rows.latest_run(db, job_id)
    job_rows.record_review(db, job_id, run["run_id"], "rejected", reason, editor)
    error = StepError(ErrorCode.REJECTED, f"rejected: {reason}")
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
    status, attempts = _store(settings).run(_provide_transcript, job_id, parsed.model_dump_json(), filename, actor)
    queue.try_enqueue(attempts, settings)
    return status


@transaction
def _provide_transcript(db: Database, job_id: str, transcript: str, filename: str, actor: str):
    waiting = JobStatus.NEEDS_USER_INPUT
    stage, _status, _move = load_pipeline(get_settings().pipeline).resume_point(waiting)
    job = _job_in(db, job_id, waiting, "provide a transcript for")
    run = job_rows.create_run(db, job_id, stage.name, "transcript provided")
    keys = {"job_id": job_id, "run_id": run["run_id"], "step": "submit"}
    artifact_rows.save_artifact(db, kind="provided_transcript", content=transcript, **keys)
    reason = f"transcript {filename} provided"
    attempts = resume(db, job, waiting, reason=reason, actor=actor, run_id=run["run_id"])
    return job_rows.get_job(db, job_id)["status"], attempts


def cancel(job_id: str, *, actor: str = "creator", settings: Settings | None = None) -> str:
    return _store(settings).run(_cancel, job_id, actor)


@transaction
def _cancel(db: Database, job_id: str, actor: str) -> str:
    job = job_rows.get_job(db, job_id)
    if JobStatus(job["status"]).terminal:
        raise Conflict(f"job {job_id} is already {job['status']}; nothing to cancel")
    run = job_rows.latest_run(db, job_id)
    error = StepError(ErrorCode.CANCELLED, f"cancelled by {actor}")
    fail_job(db, job_id, run["run_id"], JobStatus.FAILED, error, move=Move.CANCEL, actor=actor)
    return JobStatus.FAILED.value


def retry(job_id: str, *, actor: str = "creator", settings: Settings | None = None) -> str:
    """A new run from the stage that failed, for a job that failed or was blocked."""
    found = _store(settings).run(_job_rows, job_id)
    status = JobStatus(found["job"]["status"])
    failures = [a for a in found["attempts"] if a["status"] == "failed"]
    failed = max(failures, key=lambda a: (a["finished_at"], a["id"]))["step"] if failures else None
    if status not in FAILED:
        raise Conflict(f"job {job_id} is {status.value}; only a failed or blocked job can be retried (re-run a step)")
    pipeline = load_pipeline((settings or get_settings()).pipeline)
    stage = pipeline.stage_of(failed).name if failed else pipeline.first().name
    settings = settings or get_settings()
    target, attempts = _store(settings).run(_rerun, job_id, stage, actor, f"retry from {stage}", keep_request=True)
    queue.try_enqueue(attempts, settings)
    return target


def rerun(
    job_id: str, stage: str, *, actor: str = "creator", reason: str = "re-run", settings: Settings | None = None
) -> str:
    """Regenerate ``stage`` and everything after it in a new run; what came before is reused."""
    settings = settings or get_settings()
    pipeline = load_pipeline(settings.pipeline)
    stage = pipeline.stage(stage).name  # an unknown name is refused with the list of stages
    target, attempts = _store(settings).run(_rerun, job_id, stage, actor, f"{reason} from {stage}")
    queue.try_enqueue(attempts, settings)
    return target


def regenerate(
    job_id: str,
    fmt: str,
    instruction: str | None = None,
    *,
    actor: str = "creator",
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
        raise InvalidInput(_first_problem(exc)) from None
    stage = load_pipeline(settings.pipeline).stage_of(spec.task).name
    why = f"regenerate the {spec.label}" + (f" ({request.instruction})" if request.instruction else "")
    target, attempts = _store(settings).run(_rerun, job_id, stage, actor, why, request=request.model_dump())
    queue.try_enqueue(attempts, settings)
    return target


def _first_problem(exc: ValidationError) -> str:
    return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")


@transaction
def _rerun(
    db: Database, job_id: str, stage: str, actor: str, why: str, request: dict | None = None, keep_request: bool = False
) -> tuple[str, list[dict]]:
    """A new run from ``stage``: with ``request``, one that asks more than the job's options (a
    regenerated draft); with ``keep_request``, one that asks what the job's last run asked (a
    retry of a regenerated draft regenerates it again)."""
    job = job_rows.get_job(db, job_id)
    if JobStatus(job["status"]).active:
        raise Conflict(f"job {job_id} is still running ({job['status']}); cancel it first or wait")
    if keep_request:
        request = job_rows.run_request(db, job_rows.latest_run(db, job_id)["run_id"])
    _check_formats(job, request)
    run = job_rows.create_run(db, job_id, stage, why)
    if request:
        job_rows.save_run_request(db, run["run_id"], request, actor)
    target = load_pipeline(get_settings().pipeline).status_before(stage)
    job_rows.set_status(db, job_id, target, move=Move.RERUN, reason=why, run_id=run["run_id"], actor=actor)
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
    editor: str = "editor",
    expected_version: int | None = None,
    settings: Settings | None = None,
) -> int:
    """Save an edit as a new version (a save that races another one raises Conflict), then
    re-run QA on it: the job's QA report and score change with the saved text."""
    spec = formats.get(fmt)
    if not body.strip() and not posts:
        raise InvalidInput("the draft is empty; write something or leave the editor without saving")
    draft = Draft(format=spec.name, title=title.strip() or spec.label, body=body, posts=posts or [])
    version, basis = _store(settings).run(_save_edit, job_id, draft, editor, expected_version)
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
def _save_edit(db: Database, job_id: str, draft: Draft, editor: str, expected_version: int | None):
    """The new version, and what QA compares it with (None until QA has run once)."""
    job = job_rows.get_job(db, job_id)
    version = artifact_rows.add_draft_version(
        db,
        job_id,
        draft,
        source="edit",
        author=editor,
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
    settings: Settings | None = None,
) -> dict:
    """Change a workspace's plan or webhook. Setting a first webhook makes the workspace's
    signing secret: it is in the answer (``webhook_secret``) this once and never again."""
    settings = settings or get_settings()
    if webhook_url is not None:
        webhook_url = _checked_webhook(webhook_url, settings)
    info, key_id = _store(settings).run(_configure_workspace, name, plan, webhook_url, clear_webhook)
    shown = {"webhook_secret": signing.workspace_secret(settings, name, key_id)} if key_id else {}
    return {**info, **shown}


@transaction
def _configure_workspace(db: Database, name: str, plan, webhook_url, clear_webhook: bool) -> tuple[dict, str | None]:
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
        raise InvalidInput(f"webhook refused: {exc}") from None


def rotate_webhook_secret(name: str, settings: Settings | None = None) -> str:
    """A new signing secret for the workspace's webhooks, returned this once; the old one stops
    working with the next delivery."""
    settings = settings or get_settings()
    key_id = signing.new_key_id()
    _store(settings).run(_set_webhook_key, name, key_id)
    return signing.workspace_secret(settings, name, key_id)


@transaction
def _set_webhook_key(db: Database, name: str, key_id: str) -> None:
    usage_rows.get_workspace(db, name)
    usage_rows.set_webhook_key(db, name, key_id)


# --- Brand voice ----------------------------------------------------------------------------


def _check_may_edit_voice(actor: str, workspace: str) -> None:
    """The one place that decides who may change a workspace's voice profile. Every entry (page,
    CLI, API) comes through :func:`save_voice_profile`; when roles arrive, only the workspace's
    owners pass here (raise ``PermissionError``-like ``InvalidInput`` for the others)."""
    return None


def voice_profile(workspace: str = defaults.DEFAULT_WORKSPACE, settings: Settings | None = None) -> VoiceProfile:
    """The workspace's current voice profile (an empty one, version 0, when none was saved)."""
    return _store(settings).run(voice_rows.latest_profile, workspace) or VoiceProfile()


def save_voice_profile(
    workspace: str,
    profile: VoiceProfile,
    *,
    editor: str = "editor",
    note: str | None = None,
    settings: Settings | None = None,
) -> int:
    """Save ``profile`` as the workspace's next version (earlier versions stay, and runs keep the
    version they were pinned to); returns the new version."""
    _check_may_edit_voice(editor, workspace)
    return _store(settings).run(_save_voice, workspace, profile, editor, note)


@transaction
def _save_voice(db: Database, workspace: str, profile: VoiceProfile, editor: str, note: str | None) -> int:
    usage_rows.ensure_workspace(db, workspace)
    return voice_rows.save_profile(db, workspace, profile, by=editor, note=note)


def voice_history(workspace: str = defaults.DEFAULT_WORKSPACE, settings: Settings | None = None) -> list[dict]:
    return _store(settings).run(voice_rows.profile_history, workspace)


def run_voice(run_id: str, settings: Settings | None = None) -> VoiceProfile | None:
    """The voice profile a run wrote in (None: the workspace had none, or the run made nothing)."""
    return _store(settings).run(voice_rows.pinned_profile, run_id)
