"""Editors' decisions as an evaluation dataset.

Each job an editor approved or rejected becomes one JSON line: the decision and its reason, why
QA flagged the job, the transcript, the insight pack, and per draft format the text the pipeline
generated (with the prompt version that made it) next to the text the editor left (after their
edits). The file stands alone, so experiments can load it without the database that made it.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.diffs import text_similarity
from pipeline.errors import InvalidInput
from pipeline.models import Draft
from pipeline.settings import Settings, get_settings
from pipeline.store import Database, get_store, transaction, utcnow
from pipeline.store import artifacts as artifact_rows
from pipeline.store import evaluation as evaluation_rows
from pipeline.store import prompts as prompt_rows

__all__ = ["decision_records", "export_decisions", "load_decisions", "latest_export"]

EXPORT_DIR = "evaluation"
EXPORT_PREFIX = "editor-decisions-"


def _artifact_json(db: Database, job_id: str, *kinds: str) -> dict | None:
    for kind in kinds:
        row = artifact_rows.load_artifact(db, job_id, kind)
        if row is not None:
            return json.loads(row["content"])
    return None


def _draft_json(draft: Draft, **extra) -> dict:
    return {"title": draft.title, "body": draft.body, "posts": draft.posts, **extra}


def _format_pair(generated: dict | None, final: dict | None) -> dict:
    pair: dict = {"generated": None, "final": None, "edited": False, "similarity": None}
    if generated is not None:
        pair["generated"] = _draft_json(
            generated["draft"],
            prompt_name=generated["prompt_name"],
            prompt_version=generated["prompt_version"],
            version=generated["version"],
        )
    if final is not None:
        pair["final"] = _draft_json(
            final["draft"], version=final["version"], source=final["source"], author=final["author"]
        )
        pair["edited"] = final["source"] == "edit"
    if generated is not None and final is not None:
        pair["similarity"] = text_similarity(generated["draft"].text(), final["draft"].text())
    return pair


def _drafts(db: Database, job_id: str, run_id: str | None) -> dict[str, dict]:
    generated = evaluation_rows.generated_drafts(db, job_id, run_id)
    final = artifact_rows.latest_drafts(db, job_id)
    return {fmt: _format_pair(generated.get(fmt), final.get(fmt)) for fmt in sorted(set(generated) | set(final))}


def _record(db: Database, review: dict) -> dict | None:
    job_id = review["job_id"]
    transcript = _artifact_json(db, job_id, "transcript", "provided_transcript")
    if transcript is None:
        return None  # nothing to run a prompt on
    return {
        "job_id": job_id,
        "title": review["title"] or review["source"],
        "decision": review["decision"],
        "reason": review["reason"],
        "editor": review["editor"],
        "decided_at": review["decided_at"].isoformat(timespec="seconds"),
        "flagged_because": evaluation_rows.flag_reason(db, job_id),
        "qa_score": review["qa_score"],
        "options": review["options"],
        "prompt_versions": prompt_rows.run_pins(db, review["run_id"]) if review["run_id"] else {},
        "transcript": transcript,
        "insights": _artifact_json(db, job_id, "insights"),
        "drafts": _drafts(db, job_id, review["run_id"]),
    }


def decision_records(settings: Settings | None = None) -> list[dict]:
    """One record per job an editor approved or rejected (its latest decision)."""
    return get_store(settings or get_settings()).run(_decision_records)


@transaction(writes=False)
def _decision_records(db: Database) -> list[dict]:
    records = [_record(db, review) for review in evaluation_rows.reviewed_jobs(db)]
    return [record for record in records if record is not None]


def _export_dir(settings: Settings) -> Path:
    return settings.data_dir / EXPORT_DIR


def export_decisions(out: str | Path | None = None, settings: Settings | None = None) -> Path:
    """Write the editors' decisions as JSON lines; returns the file written (by default a new
    time-stamped file under ``<data dir>/evaluation/``)."""
    settings = settings or get_settings()
    stamp = utcnow().strftime("%Y%m%d-%H%M%S-%f")
    path = Path(out) if out else _export_dir(settings) / f"{EXPORT_PREFIX}{stamp}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(record, ensure_ascii=False) for record in decision_records(settings)]
    tmp = path.with_name(path.name + ".part")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(path)
    return path


def latest_export(settings: Settings | None = None) -> Path | None:
    found = sorted(_export_dir(settings or get_settings()).glob(f"{EXPORT_PREFIX}*.jsonl"))
    return found[-1] if found else None


def load_decisions(path: str | Path | None = None, settings: Settings | None = None) -> list[dict]:
    """The records of an export (the newest export when no path is given)."""
    path = Path(path) if path else latest_export(settings)
    if path is None:
        raise InvalidInput("no evaluation export yet; run `python -m pipeline eval-export` (or export_decisions())")
    if not path.is_file():
        raise InvalidInput(f"evaluation file not found: {path}")
    return [
        _parse_line(path, number, line)
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if line.strip()
    ]


def _parse_line(path: Path, number: int, line: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}:{number} is not JSON ({exc.msg})") from None
    missing = {"job_id", "decision", "transcript", "drafts"} - set(record)
    if missing:
        raise InvalidInput(f"{path}:{number} is not an evaluation record (missing {', '.join(sorted(missing))})")
    return record
