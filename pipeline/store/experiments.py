"""Prompt experiments and their cells (one cell per prompt version and dataset item)."""

from __future__ import annotations

import json

from pipeline.errors import NotFound
from pipeline.store.base import Database, dumps, transaction, utcnow

__all__ = [
    "create_experiment",
    "finish_experiment",
    "save_cell",
    "get_experiment",
    "experiment_cells",
    "list_experiments",
]

_EXPERIMENT_JSON = ("versions", "baseline")
_CELL_JSON = ("checks_failed", "risk_flags", "output", "metrics")
_CELL_COLUMNS = (
    "experiment_id",
    "version",
    "item_id",
    "item_title",
    "status",
    "score",
    "rule_score",
    "judge_score",
    "checks_passed",
    "checks_failed",
    "risk_flags",
    "prompt_name",
    "prompt_version",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "latency_ms",
    "output",
    "output_text",
    "metrics",
    "error",
    "created_at",
)


@transaction
def create_experiment(
    db: Database,
    *,
    experiment_id: str,
    task: str,
    prompt_name: str,
    versions: list[str],
    dataset: str,
    provider: str,
    model: str,
    baseline: dict,
    items: int,
    note: str | None,
    created_by: str,
) -> None:
    db.execute(
        """INSERT INTO experiments (experiment_id, task, prompt_name, versions, dataset, provider, model, baseline,
                                    items, note, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            experiment_id,
            task,
            prompt_name,
            dumps(versions),
            dataset,
            provider,
            model,
            dumps(baseline),
            items,
            note,
            created_by,
            utcnow(),
        ],
    )


@transaction
def finish_experiment(db: Database, experiment_id: str) -> None:
    db.execute("UPDATE experiments SET finished_at = ? WHERE experiment_id = ?", [utcnow(), experiment_id])


@transaction
def save_cell(db: Database, cell: dict) -> None:
    """Insert or replace one cell; JSON fields are given as Python values."""
    values = {**cell, "created_at": utcnow()}
    for name in _CELL_JSON:
        values[name] = dumps(values[name])
    marks = ", ".join("?" for _ in _CELL_COLUMNS)
    db.execute(
        f"INSERT OR REPLACE INTO experiment_cells ({', '.join(_CELL_COLUMNS)}) VALUES ({marks})",
        [values[name] for name in _CELL_COLUMNS],
    )


def _decoded(row: dict, names: tuple[str, ...]) -> dict:
    for name in names:
        row[name] = json.loads(row[name]) if row[name] is not None else None
    return row


def get_experiment(db: Database, experiment_id: str) -> dict:
    row = db.row("SELECT * FROM experiments WHERE experiment_id = ?", [experiment_id])
    if row is None:
        raise NotFound(f"no experiment with id {experiment_id}")
    return _decoded(row, _EXPERIMENT_JSON)


def experiment_cells(db: Database, experiment_id: str) -> list[dict]:
    rows = db.rows(
        "SELECT * FROM experiment_cells WHERE experiment_id = ? ORDER BY created_at, version, item_id", [experiment_id]
    )
    return [_decoded(row, _CELL_JSON) for row in rows]


@transaction(writes=False)
def list_experiments(db: Database, *, task: str | None = None, limit: int = 50) -> list[dict]:
    """Newest first, with how many cells ran, failed, and the mean score."""
    rows = db.rows(
        """SELECT e.*, count(c.item_id) AS cells, count(*) FILTER (WHERE c.status = 'error') AS errors,
                  round(avg(c.score), 1) AS mean_score
           FROM experiments e LEFT JOIN experiment_cells c USING (experiment_id)
           WHERE ? IS NULL OR e.task = ?
           GROUP BY ALL ORDER BY e.created_at DESC LIMIT ?""",
        [task, task, limit],
    )
    return [_decoded(row, _EXPERIMENT_JSON) for row in rows]


@transaction(writes=False)
def experiment_with_cells(db: Database, experiment_id: str) -> tuple[dict, list[dict]]:
    return get_experiment(db, experiment_id), experiment_cells(db, experiment_id)
