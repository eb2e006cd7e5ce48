"""What the pages show, read in one store session per render.

Every function takes the page's ``caller`` and reads through ``access.run``: a page shows the
workspaces the caller is a member of and nothing else; another workspace's job is not found.

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

from pipeline import access, api, defaults, formats, qa, queue, wording
from pipeline import export as export_module
from pipeline.access import RULES, Action, Caller, Principal, check_ui_address, job_for, permits, require, resolve
from pipeline.errors import InvalidInput, StepError
from pipeline.formats.shapes import article_html
from pipeline.models import Draft, DraftReview, InsightPack, QAReport, Transcript
from pipeline.options import MAX_INSTRUCTION_CHARS, SUGGESTED_INSTRUCTIONS, JobOptions
from pipeline.plans import check_quota, estimate_minutes
from pipeline.providers import describe
from pipeline.quarantine import parse_transcript
from pipeline.redis_server import RedisUnavailable
from pipeline.settings import Settings, get_settings
from pipeline.stages import FAILED, JobStatus, load_pipeline
from pipeline.store import artifacts as artifact_rows
from pipeline.store import jobs as job_rows
from pipeline.store import steps as step_rows
from pipeline.store import transaction, utcnow
from pipeline.store import usage as usage_rows
from pipeline.store import views as view_rows
from pipeline.transcript import timestamp

__all__ = [
    "RUN_COLUMNS",
    "RETRYABLE_STATUSES",
    "sidebar",
    "login_configured",
    "ui_address_problem",
    "services",
    "runs",
    "job_progress",
    "job_status",
    "RUN_TABS",
    "run_header",
    "run_tab",
    "review",
    "review_waiting",
    "recent_decisions",
    "flag_evidence",
    "analytics",
    "estimate",
    "as_link",
    "build_options",
    "samples",
    "upload_limits",
    "segment_at",
    "transcript_rows",
    "source_link",
    "editor_text",
    "draft_fields",
    "editor_draft",
    "bundle_zip",
    "format_label",
    "draft_downloads",
    "export_choices",
    "format_choices",
    "draft_preview",
    "draft_review",
    "SUGGESTED_INSTRUCTIONS",
    "MAX_INSTRUCTION_CHARS",
]

#: The columns of the Runs table, in order: codes and numbers, then their words (``status_text``,
#: ``length``, ``took``) for the page to show.
RUN_COLUMNS = [
    "job_id",
    "title",
    "status",
    "status_text",
    "progress",
    "now",
    "source",
    "length_s",
    "length",
    "took_s",
    "took",
    "created_at",
    "qa_score",
    "workspace",
    "status_reason",
    "why",
    "error_code",
    "approved_by",
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
    return access.run(_sidebar_rows, caller, workspace, settings=settings)


@transaction(writes=False)
def _sidebar_rows(db, caller: Caller, workspace: str | None) -> dict:
    who = resolve(db, caller)
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
    found = access.run(_runs_rows, caller, workspace, list(statuses), text, page, page_size, settings=settings)
    counts, total, page, pages = found["counts"], found["total"], found["page"], found["pages"]
    rows, run_ids, pending = found["rows"], found["run_ids"], found["pending"]
    live = api.live_progress(list(run_ids.values()), settings)
    for row in rows:
        run_id = run_ids.get(row["job_id"])
        row["progress"] = job_progress(row["status"], pending.get(run_id, []), live.get(run_id, {}))
        row["now"] = api.doing_now(pending.get(run_id, []))
        row["length_s"] = row.pop("duration_s")
        _put_words(row)
    return {
        "rows": pd.DataFrame(rows, columns=RUN_COLUMNS),
        "total": total,
        "page": page,
        "pages": pages,
        "counts": counts,
    }


@transaction(writes=False)
def _runs_rows(
    db, caller: Caller, workspace: str | None, statuses: list[str], text: str, page: int, page_size: int
) -> dict:
    where = view_rows.JobFilter(_scope(resolve(db, caller), workspace), tuple(statuses), text)
    counts = view_rows.status_counts(db, where)
    total = sum(n for status, n in counts.items() if not statuses or status in statuses)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(page, 0), pages - 1)
    rows = view_rows.jobs_page(db, where, limit=page_size, offset=page * page_size)
    active = [row["job_id"] for row in rows if JobStatus(row["status"]).active]
    run_ids = view_rows.current_runs(db, active)
    pending = view_rows.pending_steps(db, list(run_ids.values()))
    return {"counts": counts, "total": total, "page": page, "pages": pages, "rows": rows, "run_ids": run_ids,
            "pending": pending}  # fmt: skip


def _put_words(row: dict) -> None:
    row["status_text"] = wording.status_text(row["status"], row["error_code"], row["approved_by"])
    row["why"] = _why(row["status_reason"])
    row["length"] = wording.duration(row["length_s"])
    row["took"] = wording.duration(row["took_s"])


#: Where QA's summary says what an editor must look at (``qa.build_report``): flagged drafts,
#: and what the transcript holds.
_FLAGGED = ("need an editor: ", "The transcript holds what an editor must see: ")


def _why(reason: str | None) -> str | None:
    """The part of a status reason a person looks for: what QA flagged, not how many drafts it
    reviewed ('4 draft(s) reviewed, 0 auto-fix(es) applied; 1 need an editor: <this>', or '...;
    all scored at least 70 with no risks. The transcript holds what an editor must see: <this>')."""
    if not reason:
        return None
    for marker in _FLAGGED:
        if marker in reason:
            return reason.split(marker, 1)[1]
    return reason


#: How far a job is (the rule lives in ``pipeline.api``, which reports it to every entry).
job_progress = api.job_progress


def job_status(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> dict:
    """A job's status, progress and what it runs now: the small read a live status line (and the
    API's event stream) repeats."""
    job, run, pending = access.run(_job_status_rows, caller, job_id, settings=settings)
    live = api.live_progress([run["run_id"]], settings).get(run["run_id"], {}) if run and pending else {}
    return {
        "job_id": job_id,
        "status": job["status"],
        "status_label": wording.status_words(job["status"], job["error_code"]).label,
        "status_reason": job["status_reason"],
        "error_code": job["error_code"],
        "progress": job_progress(job["status"], pending, live),
        "now": api.doing_now(pending),
        "terminal": JobStatus(job["status"]).terminal,
    }


@transaction(writes=False)
def _job_status_rows(db, caller: Caller, job_id: str) -> tuple[dict, dict | None, list[dict]]:
    job = job_for(db, resolve(db, caller), job_id)
    run = job_rows.latest_run(db, job_id)
    pending = view_rows.pending_steps(db, [run["run_id"]]).get(run["run_id"], []) if run else []
    return job, run, pending


# --- Run detail --------------------------------------------------------------------------


def run_header(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> dict:
    """What the top of a job's page shows (title, status, who approved it, cost) and what can be
    done with it, by whom (``allowed``: action -> whether the caller may): a small read, so the
    heading is on screen before a tab's data is read."""
    found = access.run(_run_header_rows, caller, job_id, settings=settings)
    job, runs_, reviews, usage = found["job"], found["runs"], found["reviews"], found["usage"]
    status = JobStatus(job["status"])
    live = api.live_progress([runs_[-1]["run_id"]], settings) if runs_ and status.active else {}
    return {
        "job": job,
        "why": _why(job["status_reason"]),
        "runs": runs_,
        "reviews": reviews,
        "approved_by": next((r["editor"] for r in reversed(reviews) if r["decision"] == "approved"), None),
        "usage": usage,
        "has_drafts": bool(found["formats"]),
        #: The job runs to write some drafts again (a creator pressed Regenerate): its page stays on them.
        "regenerating": status.active and bool(found["request"]),
        "progress": next(iter(live.values()), {}),
        "can_cancel": status.active,
        "can_retry": status in RETRYABLE_STATUSES,
        "can_rerun": status.terminal,
        "allowed": found["allowed"],
        "needs": {action.value: RULES[action].describe() for action in Action},
        **_shape(JobOptions.model_validate(job["options"])),
    }


@transaction(writes=False)
def _run_header_rows(db, caller: Caller, job_id: str) -> dict:
    who = resolve(db, caller)
    job = job_for(db, who, job_id)
    runs = job_rows.list_runs(db, job_id)
    return {
        "job": job,
        "allowed": _allowed(who, job),
        "runs": runs,
        "reviews": view_rows.reviews_for(db, job_id),
        "usage": view_rows.usage_for(db, job_id),
        "formats": view_rows.draft_formats(db, job_id),
        "request": job_rows.run_request(db, runs[-1]["run_id"]) if runs else None,
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


#: Run detail's tabs and what each reads (a tab is read only when it is open).
RUN_TABS = ("Timeline", "Transcript", "Insights", "Drafts", "QA", "Downloads")


def run_tab(job_id: str, tab: str, *, caller: Caller | None = None, settings: Settings | None = None) -> dict:
    """What one tab of a job's page shows, in one store transaction."""
    return _tab_models(access.run(_run_tab_rows, caller, job_id, tab, settings=settings))


@transaction(writes=False)
def _run_tab_rows(db, caller: Caller, job_id: str, tab: str) -> dict:
    job_for(db, resolve(db, caller), job_id)
    return _TAB_READS[tab](db, job_id)


def _transcript_row(db, job_id: str) -> dict | None:
    return artifact_rows.load_artifact(db, job_id, "transcript") or artifact_rows.load_artifact(
        db, job_id, "provided_transcript"
    )


_TAB_READS = {
    "Timeline": lambda db, job_id: {
        "attempts": step_rows.attempts_for_job(db, job_id),
        "logs": artifact_rows.run_logs(db, job_id),
        "audit": job_rows.audit_trail(db, job_id),
    },
    "Transcript": lambda db, job_id: {"transcript": _transcript_row(db, job_id)},
    "Insights": lambda db, job_id: {"insights": artifact_rows.load_artifact(db, job_id, "insights")},
    "Drafts": lambda db, job_id: {
        "versions": view_rows.draft_versions(db, job_id),
        "qa_report": artifact_rows.load_artifact(db, job_id, "qa_report"),
    },
    "QA": lambda db, job_id: {"qa_report": artifact_rows.load_artifact(db, job_id, "qa_report")},
    "Downloads": lambda db, job_id: {
        "artifacts": artifact_rows.latest_artifacts(db, job_id),
        "versions": view_rows.draft_versions(db, job_id),
    },
}


def _tab_models(rows: dict) -> dict:
    """Stored rows as the typed models the pages use (after the session: parsing only)."""
    shown = dict(rows)
    for key, model in (("transcript", Transcript), ("insights", InsightPack), ("qa_report", QAReport)):
        if key in rows:
            shown[key] = _model(rows[key], model)
    if "versions" in rows:
        shown["drafts"] = _drafts_by_format(shown.pop("versions"))
    if "artifacts" in rows:
        kinds = {a["kind"] for a in rows["artifacts"]}
        shown["has_transcript"] = bool(kinds & {"transcript", "provided_transcript"})
    return shown


def _model(row: dict | None, model):
    return model.model_validate_json(row["content"]) if row else None


def _drafts_by_format(versions: list[dict]) -> dict[str, list[dict]]:
    """format -> its versions, oldest first, each with the typed draft; formats in the usual order."""
    grouped: dict[str, list[dict]] = {}
    for row in versions:
        row["posts"] = json.loads(row["posts"]) if row["posts"] else []
        row["draft"] = Draft(format=row["format"], title=row["title"], body=row["body"], posts=row["posts"])
        grouped.setdefault(row["format"], []).append(row)
    return {fmt: grouped[fmt] for fmt in formats.in_order(grouped)}


def segment_at(transcript: Transcript, seconds: float) -> int | None:
    """Index of the segment a moment points at: the one that starts at ``seconds``, else the one
    being spoken then (the last that started by then). Links carry whole seconds, so a segment
    that starts within the same second (a quote at 0:45.5 linked as 45) is the one meant, not
    the segment before it."""
    found = None
    for index, segment in enumerate(transcript.segments):
        if segment.start >= seconds + 1:
            break
        if segment.start <= seconds or int(segment.start) == int(seconds):
            found = index
            if segment.start > seconds:
                break
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
    """What the editor shows (a thread: its posts separated by lines of ``---``)."""
    return formats.get(draft.format).editor_text(draft)


def draft_fields(fmt: str, title: str, text: str) -> dict:
    """The editor's text back into draft fields (``title``, ``body``, ``posts``)."""
    return formats.get(fmt).from_editor(title, text)


def bundle_zip(job_id: str, *, caller: Caller | None = None, settings: Settings | None = None) -> bytes:
    """The whole export bundle of a job as a zip file."""
    return export_module.bundle_zip(api.bundle_files_for(job_id, caller=caller, settings=settings))


def format_label(name: str) -> str:
    return formats.label(name)


def draft_downloads(draft: Draft, chosen: dict[str, bool] | None = None) -> list[dict]:
    """The files a draft downloads as, from its format's exports (an X thread as posts ready to
    paste, a blog post as Markdown and HTML, ...), made with the creator's export choices."""
    return [
        {"file_name": name, "data": content, "mime": export.mime, "label": export.label}
        for name, content, export in export_module.draft_exports(draft, chosen)
    ]


def export_choices(fmt: str) -> list[dict]:
    """What a creator may choose about a format's exports (numbered posts, timestamps kept)."""
    choices = {c.name: c for export in formats.get(fmt).exports for c in export.choices}
    return [{"name": c.name, "label": c.label, "default": c.default, "help": c.help} for c in choices.values()]


def draft_preview(fmt: str, title: str, text: str) -> dict:
    """What the editor shows beside the text being edited, read from the format's spec: the
    draft as the platform shows it (``kind``: a thread's ``posts``, an article's ``html`` —
    Markdown rendered with markup in the text kept as text — or ``plain`` text in the platform's
    ``column_px``), the characters per post and in total against the platform's limits
    (``counts``; ``over`` those past a limit), and ``as_posted``: what a creator pastes."""
    spec = formats.get(fmt)
    draft = editor_draft(fmt, title, text)
    counts = [{"part": c.part, "chars": c.chars, "limit": c.limit, "over": c.over} for c in spec.counts(draft)]
    kind = "thread" if spec.threaded else "article" if spec.markdown else "plain"
    return {
        "kind": kind,
        "label": spec.label,
        "posts": spec.posts_of(draft) if spec.threaded else [],
        "html": article_html(draft) if kind == "article" else "",
        "plain": draft.body.strip() if kind == "plain" else "",
        "column_px": spec.column_px,
        "counts": counts,
        "over": [c for c in counts if c["over"]],
        "limits": spec.limits_text,
        "per_post": spec.limits.per_post,
        "total": spec.limits.total,
        "as_posted": export_module.draft_as_posted(draft) if draft.text().strip() else "",
    }


def editor_draft(fmt: str, title: str, text: str) -> Draft:
    """The draft the editor's title and text make (a blank title: the format's name)."""
    spec = formats.get(fmt)
    fields = spec.from_editor(title, text)
    return Draft(
        format=spec.name, title=fields["title"].strip() or spec.label, body=fields["body"], posts=fields["posts"] or []
    )


def draft_review(
    job_id: str, fmt: str, *, caller: Caller | None = None, settings: Settings | None = None
) -> DraftReview | None:
    """How QA scored a job's draft of ``fmt`` last (after every saved edit too); None before QA ran."""
    report = _model(access.run(_qa_report_row, caller, job_id, settings=settings), QAReport)
    return next((review for review in report.drafts if review.format == fmt), None) if report else None


@transaction(writes=False)
def _qa_report_row(db, caller: Caller, job_id: str) -> dict | None:
    job_for(db, resolve(db, caller), job_id)
    return artifact_rows.load_artifact(db, job_id, "qa_report")


def format_choices() -> list[dict]:
    """Every draft format for a form: name, label, whether a job gets it by default, its limits."""
    return [
        {"name": s.name, "label": s.label, "default": s.default, "limits": s.limits_text, "hint": s.editor_hint()}
        for s in formats.specs()
    ]


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
    found = access.run(_review_rows, caller, workspace, selected, settings=settings)
    return {"queue": found["queue"], "item": _review_item(found["item"]) if found["item"] else None}


@transaction(writes=False)
def _review_rows(db, caller: Caller, workspace: str | None, selected: str | None) -> dict:
    who = resolve(db, caller)
    waiting = view_rows.review_queue(db, _scope(who, workspace))
    chosen = selected if selected in {row["job_id"] for row in waiting} else None
    chosen = chosen or (waiting[0]["job_id"] if waiting else None)
    if chosen is None:
        return {"queue": waiting, "item": None}
    job = job_rows.get_job(db, chosen)
    item = {
        "job": job,
        "allowed": _allowed(who, job),
        "transcript": artifact_rows.load_artifact(db, chosen, "transcript"),
        "qa_report": artifact_rows.load_artifact(db, chosen, "qa_report"),
        "drafts": artifact_rows.latest_drafts(db, chosen),
        "audit": job_rows.audit_trail(db, chosen),
        "reviews": view_rows.reviews_for(db, chosen),
    }
    return {"queue": waiting, "item": item}


def review_waiting(
    workspace: str | None = None, *, caller: Caller | None = None, settings: Settings | None = None
) -> int:
    """How many jobs wait for an editor (the small read a waiting Review page repeats)."""
    return len(access.run(_review_queue, caller, workspace, settings=settings))


@transaction(writes=False)
def _review_queue(db, caller: Caller, workspace: str | None) -> list[dict]:
    return view_rows.review_queue(db, _scope(resolve(db, caller), workspace))


def recent_decisions(
    workspace: str | None = None, *, caller: Caller | None = None, settings: Settings | None = None
) -> list[dict]:
    """The latest review decisions, each with its job's status now."""
    return access.run(_recent_decisions, caller, workspace, settings=settings)


@transaction(writes=False)
def _recent_decisions(db, caller: Caller, workspace: str | None) -> list[dict]:
    return view_rows.recent_reviews(db, _scope(resolve(db, caller), workspace))


def _review_item(found: dict) -> dict:
    job, drafts = found["job"], found["drafts"]
    transcript = _model(found["transcript"], Transcript)
    report = _model(found["qa_report"], QAReport)
    reviews = {r.format: r for r in report.drafts} if report else {}
    flagged = [
        {
            "format": fmt,
            "review": reviews[fmt],
            "latest": drafts[fmt],
            "evidence": flag_evidence(drafts[fmt]["draft"], reviews[fmt], transcript),
        }
        for fmt in formats.names()
        if fmt in drafts and fmt in reviews and reviews[fmt].requires_review
    ]
    return {
        "job": job,
        "report": report,
        "transcript_evidence": transcript_evidence(transcript) if report and report.transcript_flags else [],
        "flagged": flagged,
        "audit": found["audit"],
        "reviews": found["reviews"],
        "allowed": found["allowed"],
        "needs": {action.value: RULES[action].describe() for action in Action},
    }


def transcript_evidence(transcript: Transcript | None) -> list[dict]:
    """What QA found planted in the transcript, each flag with its line and the words marked
    (the first :data:`qa.MAX_TRANSCRIPT_FLAGS`, like the report)."""
    if transcript is None:
        return []
    return [
        {
            "flag": f'Transcript: {kind} at {timestamp(transcript.segments[index].start)}: "{words[:60]}"',
            "check": "transcript",
            "severity": "risk",
            "passage": [_passage_line(transcript, index, [words])],
        }
        for kind, index, words in qa.transcript_findings(transcript)[: qa.MAX_TRANSCRIPT_FLAGS]
    ]


_NUMBER_IN_REASON = re.compile(r"\$?\d[\d,.]*%?")
_QUOTE_IN_DRAFT = re.compile(r'["\u201c]([^"\u201c\u201d\n]{20,})["\u201d]')
#: A flag's evidence is a passage, not a list: at most this many transcript lines per flag.
MAX_PASSAGE_LINES = 2


def flag_evidence(draft: Draft, review: DraftReview, transcript: Transcript | None) -> list[dict]:
    """What QA flagged in a draft, risks first, each with the transcript passage behind it: at
    most two lines where the flagged words were said, with the character spans of those words.
    A flag about the draft's form (length, repetition) or a number nobody said has no passage."""
    failed = sorted(
        (c for c in review.checks if not c.passed and c.severity != "info"), key=lambda c: c.severity != "risk"
    )
    entries = [
        {
            "flag": check.reason,
            "check": check.name,
            "severity": check.severity,
            "passage": _passage(transcript, _phrases_behind(check, draft)) if transcript else [],
        }
        for check in failed
    ]
    reasons = {check.reason for check in failed}
    entries += [  # the judge's risks are not rule checks and name no words
        {"flag": flag, "check": "judge", "severity": "risk", "passage": []}
        for flag in review.risk_flags
        if flag not in reasons
    ]
    return entries


def _phrases_behind(check, draft: Draft) -> list[str]:
    """The words in the draft a failed check is about, to look for in the transcript."""
    text = draft.text()
    found = {
        "leaked_instructions": lambda: qa.find_instructions(text),
        "profanity": lambda: qa.find_profanity(text),
        "unverifiable_numbers": lambda: [n.rstrip(".,") for n in _NUMBER_IN_REASON.findall(check.reason)],
        "quotes_grounded": lambda: _QUOTE_IN_DRAFT.findall(text),
    }.get(check.name, list)()
    return list(dict.fromkeys(p for p in found if p.strip()))


def _passage(transcript: Transcript, phrases: list[str]) -> list[dict]:
    lines: list[int] = []
    for phrase in phrases:
        for index in _segments_saying(transcript, phrase):
            if index not in lines and len(lines) < MAX_PASSAGE_LINES:
                lines.append(index)
    return [_passage_line(transcript, index, phrases) for index in sorted(lines)]


def _passage_line(transcript: Transcript, index: int, phrases: list[str]) -> dict:
    segment = transcript.segments[index]
    return {
        "index": index,
        "time": timestamp(segment.start),
        "start_s": segment.start,
        "speaker": segment.speaker or "",
        "text": segment.text,
        "spans": [span for phrase in phrases for span in _spans_of(phrase, segment.text)],
    }


def _spans_of(phrase: str, text: str) -> list[tuple[int, int]]:
    """Where the phrase is said in a line: a number as a whole word with its unit; words in any
    case and spacing; a quote that runs on into the next line by its first five words."""
    if re.fullmatch(r"[\d$,.%]+", phrase):
        return [m.span() for m in re.finditer(r"(?<![\d.,])" + re.escape(phrase) + r"(?![\d])", text)]
    words = [word.strip(".,;:!?\"'\u201c\u201d") for word in phrase.split()]
    for tried in (words, words[:5]):
        pattern = r"\W+".join(re.escape(word) for word in tried if word)
        found = [m.span() for m in re.finditer(pattern, text, re.IGNORECASE)] if pattern else []
        if found:
            return found
    return []


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
    workspace: str | None = None,
    days: int = 30,
    shift_minutes: int = 0,
    *,
    caller: Caller | None = None,
    settings: Settings | None = None,
) -> dict:
    """Frames for the analytics charts over the last ``days`` days, days and weeks counted in the
    viewer's time (``shift_minutes`` ahead of UTC); minutes against the plan for this month.
    ``workspace`` None means every workspace the caller is a member of."""
    now = utcnow()
    since, month = now - timedelta(days=days), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    frames = access.run(_analytics_frames, caller, workspace, since, month, shift_minutes, settings=settings)
    return {**_in_words(frames), "since": since, "month": month, "days": days}


@transaction(writes=False)
def _analytics_frames(db, caller: Caller, workspace: str | None, since, month, shift_minutes: int) -> dict:
    named = workspace
    workspace = _scope(resolve(db, caller), workspace)
    return {
        "content_per_week": view_rows.content_per_week(db, workspace, since, shift_minutes),
        "qa_scores": view_rows.qa_scores(db, workspace, since),
        "plan_use": view_rows.plan_use_per_workspace(db, workspace, month),
        "minutes_per_day": view_rows.minutes_per_day(db, named, month, shift_minutes) if named else None,
        "failed_jobs": view_rows.failed_jobs(db, workspace, since),
        "runs_per_day": view_rows.runs_per_day(db, workspace, since, shift_minutes),
        "step_durations": view_rows.step_durations(db, workspace, since),
        "failure_reasons": view_rows.failure_reasons(db, workspace, since),
        "usage": view_rows.usage_per_workspace(db, workspace, since),
    }


def _in_words(frames: dict) -> dict:
    """Codes as words and numbers rounded for people (after the session: formatting only)."""
    frames["failed_jobs"]["reason"] = [wording.reason_words(code) for code in frames["failed_jobs"]["error_code"]]
    frames["failure_reasons"]["reason"] = [wording.reason_words(c) for c in frames["failure_reasons"]["error_code"]]
    frames["failure_reasons"]["step"] = [wording.step_words(s) for s in frames["failure_reasons"]["step"]]
    frames["step_durations"]["step"] = [wording.step_words(s) for s in frames["step_durations"]["step"]]
    frames["step_durations"][["p50_s", "p95_s"]] = frames["step_durations"][["p50_s", "p95_s"]].round(1)
    frames["usage"]["minutes"] = frames["usage"]["minutes"].round(1)
    frames["plan_use"]["used_minutes"] = frames["plan_use"]["used_minutes"].round(1)
    content = frames["content_per_week"]
    content["format"] = [_format_label(fmt) for fmt in content["format"]]
    return frames


def _format_label(fmt: str) -> str:
    try:
        return formats.label(fmt)
    except ValueError:  # a format this version does not know (any more)
        return fmt.replace("_", " ").capitalize()


# --- Submit ------------------------------------------------------------------------------


def upload_limits(settings: Settings | None = None) -> dict[str, int]:
    """The largest file each uploader takes, in MB: media up to the configured cap
    (CLIPINSIGHT_MAX_UPLOAD_MB), transcripts up to the transcript cap."""
    settings = settings or get_settings()
    return {"media_mb": settings.max_upload_mb, "transcript_mb": max(1, defaults.MAX_TRANSCRIPT_BYTES // 2**20)}


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


def build_options(
    formats: list[str], tone: str, cta_url: str | None, speaker: str | None = None, title: str | None = None
) -> JobOptions:
    """The submission options from the form; a clear InvalidInput for what cannot be used.
    ``speaker``: None or blank for the creator's own talk, else who gives it."""
    if not formats:
        raise InvalidInput("choose at least one draft")
    return api.job_options(formats, tone=tone, cta_url=cta_url, speaker=speaker, title=title)


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
    plan, per_minute = access.run(_plan_and_cost, caller, workspace, settings=settings)
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
        "note": parsed.encoding_note,
        "left_minutes": max(plan.monthly_minutes - plan.used_minutes, 0.0),
        "plan": plan.model_dump(),
        "cost_usd": 0.0 if offline else (minutes * per_minute if per_minute is not None else None),
        "cost_basis": _cost_basis(offline, per_minute),
        "problem": problem,
    }


@transaction(writes=False)
def _plan_and_cost(db, caller: Caller, workspace: str):
    require(resolve(db, caller), Action.READ, workspace)
    return usage_rows.plan_status(db, workspace), view_rows.cost_per_minute(db, utcnow() - timedelta(days=90))


def _cost_basis(offline: bool, per_minute: float | None) -> str:
    if offline:
        return "the offline provider makes no paid calls"
    if per_minute is None:
        return "no paid run yet to estimate from"
    return f"at ${per_minute:.4f} per minute, the average of the last 90 days"
