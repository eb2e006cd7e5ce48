"""Prompt labels (``production`` -> a version of a prompt), their history, and the prompt
versions each run is pinned to."""

from __future__ import annotations

from pipeline.store.base import Database, transaction, utcnow

__all__ = [
    "get_label",
    "list_labels",
    "set_label",
    "clear_label",
    "label_history",
    "run_pins",
    "pin_run",
    "pin_run_prompts",
]

PRODUCTION = "production"


def get_label(db: Database, prompt_name: str, label: str) -> dict | None:
    return db.row("SELECT * FROM prompt_labels WHERE prompt_name = ? AND label = ?", [prompt_name, label])


@transaction(writes=False)
def list_labels(db: Database) -> list[dict]:
    return db.rows("SELECT * FROM prompt_labels ORDER BY prompt_name, label")


def set_label(
    db: Database,
    prompt_name: str,
    label: str,
    version: str,
    *,
    by: str,
    experiment_id: str | None = None,
    note: str | None = None,
) -> str | None:
    """Point ``label`` at ``version``; returns the version it pointed at before (None if none)."""
    previous = get_label(db, prompt_name, label)
    db.execute(
        "INSERT OR REPLACE INTO prompt_labels VALUES (?, ?, ?, ?, ?, ?, ?)",
        [prompt_name, label, version, by, experiment_id, note, utcnow()],
    )
    before = previous["version"] if previous else None
    _history(db, prompt_name, label, version, before, by, experiment_id, note)
    return before


@transaction
def clear_label(db: Database, prompt_name: str, label: str, *, by: str, note: str | None = None) -> str | None:
    """Remove a label (new runs use the newest version again); returns the version it held."""
    previous = get_label(db, prompt_name, label)
    if previous is None:
        return None
    db.execute("DELETE FROM prompt_labels WHERE prompt_name = ? AND label = ?", [prompt_name, label])
    _history(db, prompt_name, label, None, previous["version"], by, None, note)
    return previous["version"]


def _history(db, prompt_name, label, version, previous, by, experiment_id, note) -> None:
    db.execute(
        """INSERT INTO prompt_label_history (prompt_name, label, version, previous_version, changed_by, experiment_id,
                                             note, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [prompt_name, label, version, previous, by, experiment_id, note, utcnow()],
    )


@transaction(writes=False)
def label_history(db: Database, prompt_name: str | None = None) -> list[dict]:
    if prompt_name is None:
        return db.rows("SELECT * FROM prompt_label_history ORDER BY id")
    return db.rows("SELECT * FROM prompt_label_history WHERE prompt_name = ? ORDER BY id", [prompt_name])


@transaction(writes=False)
def run_pins(db: Database, run_id: str) -> dict[str, str]:
    """prompt name -> version for a run; empty when nothing is pinned yet."""
    rows = db.rows("SELECT prompt_name, version FROM run_prompts WHERE run_id = ? ORDER BY prompt_name", [run_id])
    return {row["prompt_name"]: row["version"] for row in rows}


def pin_run(db: Database, run_id: str, pins: list[tuple[str, str, str | None]]) -> None:
    """Record (prompt name, version, label or None) for a run; a pin once made is kept."""
    now = utcnow()
    for prompt_name, version, label in pins:
        db.execute(
            "INSERT OR IGNORE INTO run_prompts VALUES (?, ?, ?, ?, ?)", [run_id, prompt_name, version, label, now]
        )


@transaction
def pin_run_prompts(db: Database, run_id: str, newest: dict[str, str]) -> dict[str, str]:
    """The prompt versions of ``run_id`` (prompt name -> version), pinning them on first use:
    each prompt named in ``newest`` at its production label, else at its newest version."""
    pins = run_pins(db, run_id)
    if pins or not newest:
        return pins
    chosen = []
    for name, version in sorted(newest.items()):
        label = get_label(db, name, PRODUCTION)
        chosen.append((name, label["version"], PRODUCTION) if label else (name, version, None))
    pin_run(db, run_id, chosen)
    return {name: version for name, version, _label in chosen}
