"""What the pages show, read in one store session per render.

Every function takes the page's ``caller`` and reads through ``access.session``: a page shows
the workspaces the caller is a member of and nothing else; another workspace's job is not found.

Each function here returns plain values (dicts, lists, DataFrames, the typed models of
``pipeline.models``) for one page. A store session costs a lock, an open and a close of the DuckDB
file, so every function opens exactly one and reads everything its page needs inside it. Live
state (step progress, worker presence) comes from Redis and is optional: when Redis is away the
pages still render from DuckDB and say so.
"""

from __future__ import annotations

import json
import math
import re
from datetime import timedelta
from pathlib import Path

import pandas as pd
import redis

from pipeline import api, defaults, export, qa, queue
from pipeline.access import Action, Caller, Principal, check_ui_address, job_for, permits, require
from pipeline.access import session as _session
from pipeline.errors import InvalidInput, StepError
from pipeline.models import Draft, DraftFormat, DraftReview, InsightPack, JobOptions, QAReport, Transcript
from pipeline.plans import check_quota, estimate_minutes
from pipeline.providers import describe
from pipeline.redis_server import RedisUnavailable
from pipeline.settings import Settings, get_settings
from pipeline.stages import FAILED, JobStatus, load_pipeline
from pipeline.store import artifacts as artifact_rows
from pipeline.store import jobs as job_rows
from pipeline.store import steps as step_rows
from pipeline.store import usage as usage_rows
from pipeline.store import utcnow
from pipeline.store import views as view_rows
from pipeline.transcript import parse_transcript, timestamp

__all__ = [
    "RUN_COLUMNS",
    "RETRYABLE_STATUSES",
    "SAMPLES_DIR",
    "sidebar",
    "login_configured",
    "ui_address_problem",
    "services",
    "runs",
    "job_progress",
    "job_status",
    "run_detail",
    "review",
    "recent_decisions",
    "evidence_for",
    "analytics",
    "estimate",
    "as_link",
    "build_options",
    "samples",
    "segment_at",
    "transcript_rows",
    "source_link",
    "editor_text",
    "draft_fields",
    "bundle_zip",
]

#: The columns of the Runs table, in order.
RUN_COLUMNS = [
    "job_id",
    "title",
    "status",
    "progress",
    "now",
    "source",
    "length_s",
    "took_s",
    "created_at",
    "qa_score",
    "workspace",
    "status_reason",
    "error_code",
]
#: Statuses a failed job can be retried from (a re-run from the failed step).
RETRYABLE_STATUSES = FAILED  # the rule lives with the pipeline table; api.retry enforces it
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "samples"


def _redis(settings: Settings | None) -> redis.Redis | None:
    """A client that answered a ping just now, or None when Redis is away."""
    try:
        conn = queue.redis_client(settings or get_settings())
        conn.ping()
        return conn
    except (RedisUnavailable, redis.RedisError, OSError):
        return None


# --- Sidebar -----------------------------------------------------------------------------


def sidebar(workspace: str | None = None, *, caller: Caller | None = None, settings: Settings | None = None) -> dict:
    """The workspaces the caller is a member of with their role, and the chosen one's plan usage
    (the first of them when the chosen one is not theirs; ``workspace`` None when they have none)."""
    with _session(caller, settings) as (db, who):
        mine = who.workspaces()
        workspaces = [row["name"] for row in usage_rows.list_workspaces(db) if mine is None or row["name"] in mine]
        chosen = workspace if workspace in workspaces else _first_choice(workspaces)
        plan = usage_rows.plan_status(db, chosen) if chosen else None
    return {
        "workspaces": workspaces,
        "workspace": chosen,
        "roles": {name: who.role_in(name).value for name in workspaces},
        "actor": who.actor,
        "admin": who.admin,
        "plan": plan.model_dump() if plan else None,
    }


def _first_choice(workspaces: list[str]) -> str | None:
    if defaults.DEFAULT_WORKSPACE in workspaces:
        return defaults.DEFAULT_WORKSPACE
    return workspaces[0] if workspaces else None


def _scope(who: Principal, workspace: str | None) -> str | tuple[str, ...] | None:
    """What a listing covers: the workspace named (if the caller may read it), else every one the
    caller is a member of (None, every workspace, for the administrator)."""
    if workspace:
        require(who, Action.READ, workspace)
        return workspace
    return who.workspaces()


def login_configured(settings: Settings | None = None) -> bool:
    """Whether people sign in (OpenID Connect) or the UI's one user is the local owner."""
    return (settings or get_settings()).login_configured


def ui_address_problem(address: str | None, settings: Settings | None = None) -> str | None:
    """Why the UI may not serve on ``address`` (None: it may)."""
    try:
        check_ui_address(address, settings or get_settings())
    except InvalidInput as exc:
        return str(exc)
    return None


def services(settings: Settings | None = None) -> dict:
    """Whether Redis and workers are alive, and which content provider runs. No store session:
    this refreshes often."""
    settings = settings or get_settings()
    conn = _redis(settings)
    try:
        workers = queue.live_workers(conn) if conn is not None else []
    except redis.RedisError:
        workers = []
    return {
        "redis": conn is not None,
        "workers": workers,
        "provider": describe(settings),
    }


# --- Runs --------------------------------------------------------------------------------


def runs(
    workspace: str | None = None,
    statuses: tuple[str, ...] | list[str] = (),
    text: str = "",
    page: int = 0,
    page_size: int = defaults.RUNS_PAGE_SIZE,
    *,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> dict:
    """One page of jobs (newest first) under the filters, the total, and jobs per status; only
    the workspace named, or every workspace the caller is a member of."""
    with _session(caller, settings) as (db, who):
        where = view_rows.JobFilter(_scope(who, workspace), tuple(statuses), text)
        counts = view_rows.status_counts(db, where)
        total = sum(n for status, n in counts.items() if not statuses or status in statuses)
        pages = max(1, math.ceil(total / page_size))
        page = min(max(page, 0), pages - 1)
        rows = view_rows.jobs_page(db, where, limit=page_size, offset=page * page_size)
        active = [row["job_id"] for row in rows if JobStatus(row["status"]).active]
        run_ids = view_rows.current_runs(db, active)
        pending = view_rows.pending_steps(db, list(run_ids.values()))
    live = api.live_progress(list(run_ids.values()), settings)
    for row in rows:
        run_id = run_ids.get(row["job_id"])
        row["progress"] = job_progress(row["status"], pending.get(run_id, []), live.get(run_id, {}))
        row["now"] = api.doing_now(pending.get(run_id, []))
        row["length_s"] = row.pop("duration_s")
    return {
        "rows": pd.DataFrame(rows, columns=RUN_COLUMNS),
        "total": total,
        "page": page,
        "pages": pages,
        "counts": counts,
    }


#: How far a job is (the rule lives in ``pipeline.api``, which reports it to every entry).
job_progress = api.job_progress


def job_status(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> dict:
    """A job's status, progress and what it runs now: the small read a live status line (and the
    API's event stream) repeats."""
    with _session(caller, settings) as (db, who):
        job = job_for(db, who, job_id)
        run = job_rows.latest_run(db, job_id)
        pending = view_rows.pending_steps(db, [run["run_id"]]).get(run["run_id"], []) if run else []
    live = api.live_progress([run["run_id"]], settings).get(run["run_id"], {}) if run and pending else {}
    return {
        "job_id": job_id,
        "status": job["status"],
        "status_reason": job["status_reason"],
        "error_code": job["error_code"],
        "progress": job_progress(job["status"], pending, live),
        "now": api.doing_now(pending),
        "terminal": JobStatus(job["status"]).terminal,
    }


# --- Run detail --------------------------------------------------------------------------


def run_detail(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> dict:
    """Everything the run detail page shows about one job, and what the caller may do with it."""
    with _session(caller, settings) as (db, who):
        job = job_for(db, who, job_id)
        runs_ = job_rows.list_runs(db, job_id)
        attempts = step_rows.attempts_for_job(db, job_id)
        logs = artifact_rows.run_logs(db, job_id)
        artifacts = artifact_rows.latest_artifacts(db, job_id)
        versions = view_rows.draft_versions(db, job_id)
        audit = job_rows.audit_trail(db, job_id)
        reviews = view_rows.reviews_for(db, job_id)
        usage = view_rows.usage_for(db, job_id)
    by_kind = {a["kind"]: a for a in artifacts}
    status = JobStatus(job["status"])
    live = api.live_progress([runs_[-1]["run_id"]], settings) if runs_ and status.active else {}
    return {
        "job": job,
        "runs": runs_,
        "attempts": attempts,
        "logs": logs,
        "artifacts": artifacts,
        "transcript": _model(by_kind.get("transcript") or by_kind.get("provided_transcript"), Transcript),
        "insights": _model(by_kind.get("insights"), InsightPack),
        "qa_report": _model(by_kind.get("qa_report"), QAReport),
        "drafts": _drafts_by_format(versions),
        "audit": audit,
        "reviews": reviews,
        "usage": usage,
        "progress": next(iter(live.values()), {}),
        "can_cancel": status.active,
        "can_retry": status in RETRYABLE_STATUSES,
        "can_rerun": status.terminal,
        "allowed": _allowed(who, job),
        **_shape(JobOptions.model_validate(job["options"])),
    }


def _allowed(who: Principal, job: dict) -> dict[str, bool]:
    """Action value -> whether the caller may do it on this job (for pages to say so up front;
    the operations check again)."""
    role, own = who.role_in(job["workspace"]), job.get("submitted_by") == who.actor
    return {action.value: permits(role, action, own_job=own) for action in Action}


def _shape(options: JobOptions) -> dict:
    """The stages a job can be re-run from (and the one that regenerates its content), and its
    steps in pipeline order, from the pipeline table."""
    pipeline = load_pipeline(get_settings().pipeline)
    return {
        "stages": list(pipeline.names),
        "rerun_default": pipeline.first_content_stage().name,
        "step_order": pipeline.step_order(options),
    }


def _model(row: dict | None, model):
    return model.model_validate_json(row["content"]) if row else None


def _drafts_by_format(versions: list[dict]) -> dict[str, list[dict]]:
    """format -> its versions, oldest first, each with the typed draft; formats in the usual order."""
    grouped: dict[str, list[dict]] = {}
    for row in versions:
        row["posts"] = json.loads(row["posts"]) if row["posts"] else []
        row["draft"] = Draft(format=row["format"], title=row["title"], body=row["body"], posts=row["posts"])
        grouped.setdefault(row["format"], []).append(row)
    order = [f.value for f in DraftFormat]
    return {fmt: grouped[fmt] for fmt in sorted(grouped, key=order.index)}


def segment_at(transcript: Transcript, seconds: float) -> int | None:
    """Index of the segment being spoken at ``seconds`` (the last that started by then)."""
    found = None
    for index, segment in enumerate(transcript.segments):
        if segment.start > seconds:
            break
        found = index
    return found


def transcript_rows(transcript: Transcript, query: str = "") -> pd.DataFrame:
    """The transcript as a table, optionally only segments containing ``query`` (any case)."""
    needle = query.strip().lower()
    rows = [
        {"index": i, "time": timestamp(s.start), "start_s": s.start, "speaker": s.speaker or "", "text": s.text}
        for i, s in enumerate(transcript.segments)
        if not needle or needle in s.text.lower() or needle in (s.speaker or "").lower()
    ]
    return pd.DataFrame(rows, columns=["index", "time", "start_s", "speaker", "text"])


def source_link(job: dict, seconds: float) -> str | None:
    """A link to the source video at that second, when the source is on YouTube."""
    if job.get("source_kind") != "youtube":
        return None
    url = (job.get("metadata") or {}).get("webpage_url") or job["source"]
    url = re.sub(r"([?&])t=\d+s?&?", r"\1", url).rstrip("?&")
    return f"{url}{'&' if '?' in url else '?'}t={int(seconds)}s"


def editor_text(draft: Draft) -> str:
    """What the editor shows: an X thread's posts separated by lines of ``---``."""
    if draft.format is DraftFormat.X_THREAD and draft.posts:
        return "\n---\n".join(draft.posts)
    return draft.body


def draft_fields(fmt: str, title: str, text: str) -> dict:
    """The editor's text back into draft fields (``title``, ``body``, ``posts``)."""
    if DraftFormat(fmt) is not DraftFormat.X_THREAD:
        return {"title": title, "body": text, "posts": None}
    posts = [post.strip() for post in re.split(r"^\s*---\s*$", text, flags=re.MULTILINE) if post.strip()]
    return {"title": title, "body": "\n\n".join(posts), "posts": posts}


def bundle_zip(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> bytes:
    """The whole export bundle of a job as a zip file."""
    return export.bundle_zip(api.bundle_files_for(job_id, caller=caller, settings=settings))


# --- Review ------------------------------------------------------------------------------


def review(
    workspace: str | None = None,
    selected: str | None = None,
    *,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> dict:
    """The queue of jobs QA flagged (longest waiting first) and the selected one in full (the
    oldest when none is selected)."""
    with _session(caller, settings) as (db, who):
        waiting = view_rows.review_queue(db, _scope(who, workspace))
        chosen = selected if selected in {row["job_id"] for row in waiting} else None
        chosen = chosen or (waiting[0]["job_id"] if waiting else None)
        item = _review_item(db, chosen) if chosen else None
    return {"queue": waiting, "item": item}


def recent_decisions(
    workspace: str | None = None, *, caller: Caller | None = None, settings: Settings | None = None
) -> list[dict]:
    """The latest review decisions, each with its job's status now."""
    with _session(caller, settings) as (db, who):
        return view_rows.recent_reviews(db, _scope(who, workspace))


def _review_item(db, job_id: str) -> dict:
    job = job_rows.get_job(db, job_id)
    transcript = _model(artifact_rows.load_artifact(db, job_id, "transcript"), Transcript)
    report = _model(artifact_rows.load_artifact(db, job_id, "qa_report"), QAReport)
    drafts = artifact_rows.latest_drafts(db, job_id)
    reviews = {r.format.value: r for r in report.drafts} if report else {}
    flagged = [
        {
            "format": fmt,
            "review": reviews[fmt],
            "latest": drafts[fmt],
            "evidence": evidence_for(drafts[fmt]["draft"], reviews[fmt], transcript) if transcript else [],
        }
        for fmt in (f.value for f in DraftFormat)
        if fmt in drafts and fmt in reviews and reviews[fmt].requires_review
    ]
    return {
        "job": job,
        "report": report,
        "flagged": flagged,
        "audit": job_rows.audit_trail(db, job_id),
        "reviews": view_rows.reviews_for(db, job_id),
    }


_NUMBER_IN_REASON = re.compile(r"\$?\d[\d,.]*%?")
MAX_EVIDENCE = 8


def evidence_for(draft: Draft, review: DraftReview, transcript: Transcript) -> list[dict]:
    """Transcript segments behind what QA flagged in a draft: where the flagged words (profanity,
    instruction-like text, numbers) and the draft's quotes were said."""
    phrases = [*qa.find_instructions(draft.text()), *qa.find_profanity(draft.text())]
    for check in review.checks:
        if not check.passed and check.severity == "risk":
            phrases += [n.rstrip(".,") for n in _NUMBER_IN_REASON.findall(check.reason)]
    phrases += [q for q in re.findall(r'["\u201c]([^"\u201c\u201d\n]{20,})["\u201d]', draft.text())]
    found: dict[int, dict] = {}
    for phrase in dict.fromkeys(p for p in phrases if p.strip()):
        for index in _segments_saying(transcript, phrase):
            found.setdefault(index, {"phrase": phrase})
    return [
        {
            "index": i,
            "time": timestamp(transcript.segments[i].start),
            "start_s": transcript.segments[i].start,
            "speaker": transcript.segments[i].speaker or "",
            "text": transcript.segments[i].text,
            "matched": hit["phrase"],
        }
        for i, hit in sorted(found.items())[:MAX_EVIDENCE]
    ]


def _segments_saying(transcript: Transcript, phrase: str) -> list[int]:
    if re.fullmatch(r"[\d$,.%]+", phrase):  # a number: match it as a word, with its unit
        pattern = re.compile(r"(?<![\d.,])" + re.escape(phrase) + r"(?![\d])")
        return [i for i, s in enumerate(transcript.segments) if pattern.search(s.text)]
    needle = qa.normalize_text(phrase)
    hits = [i for i, s in enumerate(transcript.segments) if needle and needle in qa.normalize_text(s.text)]
    return hits or _segments_saying_start(transcript, needle)


def _segments_saying_start(transcript: Transcript, needle: str) -> list[int]:
    """A quote may span two segments: look for its first words instead."""
    head = " ".join(needle.split()[:5])
    if len(head.split()) < 5:
        return []
    return [i for i, s in enumerate(transcript.segments) if head in qa.normalize_text(s.text)][:1]


# --- Analytics ---------------------------------------------------------------------------


def analytics(
    workspace: str | None = None, days: int = 30, *, caller: Caller | None = None, settings: Settings | None = None
) -> dict:
    """Frames for the analytics charts, over the last ``days`` days (``workspace`` None: every
    workspace the caller is a member of)."""
    since = utcnow() - timedelta(days=days)
    with _session(caller, settings) as (db, who):
        workspace = _scope(who, workspace)
        frames = {
            "runs_per_day": view_rows.runs_per_day(db, workspace, since),
            "step_durations": view_rows.step_durations(db, workspace, since),
            "failure_reasons": view_rows.failure_reasons(db, workspace, since),
            "usage": view_rows.usage_per_workspace(db, workspace, since),
            "qa_scores": view_rows.qa_scores(db, workspace, since),
        }
    return {**frames, "since": since, "days": days}


# --- Submit ------------------------------------------------------------------------------


def samples() -> dict[str, Path]:
    """The bundled sample transcripts, by file name; the first is the one to try first."""
    found = sorted(SAMPLES_DIR.glob("*.srt"), key=lambda p: (p.name != "creator-workflow-talk.srt", p.name))
    return {path.name: path for path in found}


def as_link(text: str) -> str:
    """What was typed in a link field, always read as a web address (never as a file on the
    server): ``www.youtube.com/...`` becomes ``https://www.youtube.com/...``."""
    text = text.strip()
    if not text:
        raise InvalidInput("give a video link")
    return text if "://" in text else f"https://{text}"


def build_options(formats: list[str], tone: str, cta_url: str | None) -> JobOptions:
    """The submission options from the form; a clear InvalidInput for what cannot be used."""
    if not formats:
        raise InvalidInput("choose at least one draft")
    return api.job_options(formats, tone=tone, cta_url=cta_url)


def estimate(
    transcript: bytes | str,
    filename: str,
    workspace: str = defaults.DEFAULT_WORKSPACE,
    *,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> dict:
    """Minutes and estimated cost of a transcript against the workspace's plan, before it is
    submitted; ``problem`` says why the plan would refuse it. A bad file raises InvalidInput."""
    settings = settings or get_settings()
    parsed = parse_transcript(transcript, filename)
    with _session(caller, settings) as (db, who):
        require(who, Action.READ, workspace)
        plan = usage_rows.plan_status(db, workspace)
        per_minute = view_rows.cost_per_minute(db, utcnow() - timedelta(days=90))
    minutes = estimate_minutes(parsed.duration)
    try:
        check_quota(plan, parsed.duration)
        problem = None
    except StepError as exc:
        problem = exc.message
    offline = not settings.uses_gemini
    return {
        "minutes": minutes,
        "words": parsed.word_count,
        "segments": len(parsed.segments),
        "left_minutes": max(plan.monthly_minutes - plan.used_minutes, 0.0),
        "plan": plan.model_dump(),
        "cost_usd": 0.0 if offline else (minutes * per_minute if per_minute is not None else None),
        "cost_basis": _cost_basis(offline, per_minute),
        "problem": problem,
    }


def _cost_basis(offline: bool, per_minute: float | None) -> str:
    if offline:
        return "the offline provider makes no paid calls"
    if per_minute is None:
        return "no paid run yet to estimate from"
    return f"at ${per_minute:.4f} per minute, the average of the last 90 days"
