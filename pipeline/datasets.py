"""Datasets that prompt experiments run over: the bundled sample transcripts, recent runs from
the database, and the editors' evaluation export.

An :class:`Item` is one talk: its transcript and options, plus what a past run made of it (the
insight pack and the drafts the pipeline generated) and what an editor decided and left, when
the item comes from a run.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from pipeline.errors import InvalidInput
from pipeline.evaluation import load_decisions
from pipeline.models import Draft, InsightPack, Transcript
from pipeline.options import JobOptions
from pipeline.settings import Settings, get_settings
from pipeline.store import artifacts as artifact_rows
from pipeline.store import evaluation as evaluation_rows
from pipeline.store import get_store, transaction
from pipeline.transcript import parse_transcript

__all__ = [
    "Item",
    "DATASETS",
    "SAMPLES_DIR",
    "sample_items",
    "run_items",
    "evaluation_items",
    "load_dataset",
    "describe",
]

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "data" / "samples"
DATASETS = ("samples", "runs", "evaluation")


class Item(BaseModel):
    item_id: str
    title: str
    source: str  # samples | runs | evaluation
    transcript: Transcript
    options: JobOptions = JobOptions()
    insights: InsightPack | None = None
    #: format -> the draft the pipeline generated
    drafts: dict[str, Draft] = {}
    #: format -> the text an editor left (evaluation items)
    final: dict[str, Draft] = {}
    decision: str | None = None  # approved | rejected
    reason: str | None = None


def sample_items(
    names: list[str] | None = None, *, options: JobOptions | None = None, folder: Path = SAMPLES_DIR
) -> list[Item]:
    """The bundled SRT samples (or those named, by file name or stem)."""
    paths = sorted(folder.glob("*.srt"))
    if names:
        wanted = {Path(name).stem for name in names}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            raise InvalidInput(f"no sample named {', '.join(sorted(unknown))}; have {', '.join(p.stem for p in paths)}")
        paths = [p for p in paths if p.stem in wanted]
    return [_sample(path, options or JobOptions()) for path in paths]


def _sample(path: Path, options: JobOptions) -> Item:
    transcript = parse_transcript(path.read_bytes(), path.name)
    return Item(
        item_id=f"sample:{path.stem}", title=path.stem, source="samples", transcript=transcript, options=options
    )


def _model(row: dict | None, model: type[BaseModel]):
    return model.model_validate_json(row["content"]) if row else None


def run_items(limit: int = 20, settings: Settings | None = None) -> list[Item]:
    """The newest jobs that reached a transcript, with their insight pack, generated drafts and
    latest editor decision."""
    return get_store(settings or get_settings()).run(_run_items, limit)


@transaction(writes=False)
def _run_items(db, limit: int) -> list[Item]:
    return [_run_item(db, job) for job in evaluation_rows.recent_jobs(db, limit)]


def _run_item(db, job: dict) -> Item:
    job_id = job["job_id"]
    generated = evaluation_rows.generated_drafts(db, job_id)
    return Item(
        item_id=f"run:{job_id}",
        title=job["title"] or job["source"],
        source="runs",
        transcript=_model(artifact_rows.load_artifact(db, job_id, "transcript"), Transcript),
        options=JobOptions.model_validate(job["options"]),
        insights=_model(artifact_rows.load_artifact(db, job_id, "insights"), InsightPack),
        drafts={fmt: row["draft"] for fmt, row in generated.items()},
        decision=job["decision"],
        reason=job["reason"],
    )


def _draft_of(fmt: str, data: dict | None) -> Draft | None:
    if data is None:
        return None
    return Draft(format=fmt, title=data["title"], body=data["body"], posts=data.get("posts") or [])


def _evaluation_item(record: dict) -> Item:
    pairs = record["drafts"]
    generated = {fmt: _draft_of(fmt, pair.get("generated")) for fmt, pair in pairs.items()}
    final = {fmt: _draft_of(fmt, pair.get("final")) for fmt, pair in pairs.items()}
    return Item(
        item_id=f"eval:{record['job_id']}",
        title=record.get("title") or record["job_id"],
        source="evaluation",
        transcript=Transcript.model_validate(record["transcript"]),
        options=JobOptions.model_validate(record.get("options") or {}),
        insights=InsightPack.model_validate(record["insights"]) if record.get("insights") else None,
        drafts={fmt: draft for fmt, draft in generated.items() if draft is not None},
        final={fmt: draft for fmt, draft in final.items() if draft is not None},
        decision=record["decision"],
        reason=record.get("reason"),
    )


def evaluation_items(path: str | Path | None = None, settings: Settings | None = None) -> list[Item]:
    """Items from an evaluation export (the newest one when no path is given)."""
    return [_evaluation_item(record) for record in load_decisions(path, settings)]


def load_dataset(
    name: str,
    *,
    limit: int = 20,
    path: str | Path | None = None,
    samples: list[str] | None = None,
    settings: Settings | None = None,
) -> list[Item]:
    """``samples``, ``runs`` (the newest ``limit`` runs) or ``evaluation`` (``path`` or the newest export)."""
    if name == "samples":
        return sample_items(samples)
    if name == "runs":
        return run_items(limit, settings)
    if name == "evaluation":
        return evaluation_items(path, settings)
    raise InvalidInput(f"no dataset named {name!r}; choose one of {', '.join(DATASETS)}")


def describe(items: list[Item]) -> str:
    """One line: how many items, from where, how many carry an editor's decision."""
    sources = sorted({item.source for item in items})
    decided = sum(1 for item in items if item.decision)
    return f"{len(items)} item(s) from {', '.join(sources) or 'nowhere'}; {decided} with an editor's decision"
