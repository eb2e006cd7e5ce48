"""Loading a step's declared inputs (``pipeline.steps.io.Read``) inside the claim's transaction.

The runner sends what a step reads as plain data — ``{field: [source, kind]}`` — so this module
needs no step code: it answers each source with stored rows, as JSON-ready values. Artifacts
come back as stored (``{"format": "json"|"text", "content": ...}``) and are parsed by the runner
outside the transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.errors import InvalidInput
from pipeline.store import Database
from pipeline.store import artifacts as artifact_rows
from pipeline.store import jobs as job_rows
from pipeline.store import prompts as prompt_rows
from pipeline.store import usage as usage_rows
from pipeline.store import voices as voice_rows

__all__ = ["load_inputs", "SOURCES"]

_JOB_FIELDS = (
    "job_id",
    "workspace",
    "source_kind",
    "source",
    "options",
    "title",
    "duration_s",
    "metadata",
    "plan_exempt",
)


def _job(db: Database, job: dict, kind: str | None, context: dict):
    return {name: job[name] for name in _JOB_FIELDS if job.get(name) is not None}


def _plan(db: Database, job: dict, kind: str | None, context: dict):
    return usage_rows.plan_status(db, job["workspace"], exclude_job=job["job_id"]).model_dump()


def _workspace(db: Database, job: dict, kind: str | None, context: dict):
    return usage_rows.get_workspace(db, job["workspace"]).model_dump()


def _artifact(db: Database, job: dict, kind: str | None, context: dict):
    row = artifact_rows.load_artifact(db, job["job_id"], kind)
    if row is None:
        return None
    return {"format": row["format"], "content": row["content"]}


def _drafts(db: Database, job: dict, kind: str | None, context: dict):
    """The latest version of each draft the job asked for."""
    wanted = set(job["options"].get("formats") or [])
    rows = artifact_rows.latest_drafts(db, job["job_id"])
    drafts = {fmt: row["draft"].model_dump(mode="json") for fmt, row in rows.items() if fmt in wanted}
    return drafts or None


def _run_request(db: Database, job: dict, kind: str | None, context: dict):
    """What the run asks beyond the job's options (None for a run that asks nothing more)."""
    return job_rows.run_request(db, context["run_id"])


def _costs(db: Database, job: dict, kind: str | None, context: dict):
    return usage_rows.job_costs(db, job["job_id"])


def _prompt_pins(db: Database, job: dict, kind: str | None, context: dict):
    return prompt_rows.pin_run_prompts(db, context["run_id"], context.get("newest_prompts") or {})


def _voice(db: Database, job: dict, kind: str | None, context: dict):
    profile = voice_rows.pin_profile(db, context["run_id"], job["workspace"])
    return profile.model_dump(mode="json") if profile is not None else None


SOURCES: dict[str, Callable] = {
    "job": _job,
    "plan": _plan,
    "workspace": _workspace,
    "artifact": _artifact,
    "drafts": _drafts,
    "costs": _costs,
    "run_request": _run_request,
    "prompt_pins": _prompt_pins,
    "voice": _voice,
}


def load_inputs(db: Database, job: dict, reads: dict[str, list], context: dict) -> dict[str, object]:
    """field -> stored value (None when there is none) for each declared read."""
    loaded = {}
    for name, (source, kind) in reads.items():
        loader = SOURCES.get(source)
        if loader is None:
            raise InvalidInput(f"no input source named {source!r} (known: {', '.join(SOURCES)})")
        loaded[name] = loader(db, job, kind, context)
    return loaded
