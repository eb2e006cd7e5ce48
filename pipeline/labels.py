"""Prompt labels: which version of a prompt new runs use.

A label (``production`` unless said otherwise) points a prompt at one of its versions; without
one, runs use the newest version. When the first step of a run that generates something starts,
the run is pinned to the versions of the prompts its provider reads (``run_prompts``): every step
of the run then uses them, even if someone promotes another version mid-run, and the pins answer
"which versions did this run use" in one query. Artifacts record the version that made them too.
"""

from __future__ import annotations

import logging
import re

from pipeline.errors import InvalidInput
from pipeline.prompts import list_prompts, list_versions
from pipeline.settings import Settings, get_settings
from pipeline.store import Database, get_store, transaction
from pipeline.store import experiments as experiment_rows
from pipeline.store import prompts as prompt_rows
from pipeline.tasks import TASKS, newest_prompts, prompt_name_for

__all__ = [
    "PRODUCTION",
    "promote",
    "unpromote",
    "resolve",
    "resolve_all",
    "overview",
    "history",
    "tuned_prompts",
    "pin_run_prompts",
    "run_prompt_versions",
]

log = logging.getLogger("clipinsight.labels")

PRODUCTION = "production"
_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _prompt_readers() -> list[tuple[object, str]]:
    """Every provider that reads prompt files for tasks, with where it is used: the offline
    provider, its rubric judge, and every LLM (Gemini, OpenAI-compatible) through the one
    generation layer."""
    from pipeline.providers.generation import LLMContentProvider
    from pipeline.providers.local import LocalContentProvider
    from pipeline.providers.local_judge import LocalJudge

    return [(LocalContentProvider, ""), (LocalJudge, " (offline experiments)"), (LLMContentProvider, "")]


def tuned_prompts() -> dict[str, list[str]]:
    """prompt name -> the tasks it serves, for every prompt a provider reads for a task."""
    served: dict[str, list[str]] = {}
    for reader, where in _prompt_readers():
        for task in TASKS:
            name = prompt_name_for(reader, task)
            if name:
                served.setdefault(name, []).append(task + where)
    return served


def _check_promotable(prompt_name: str, version: str, label: str) -> None:
    if not _LABEL.match(label or ""):
        raise InvalidInput(f"a label is lower-case letters, digits, '-' or '_' (got {label!r})")
    if prompt_name not in tuned_prompts():
        raise InvalidInput(
            f"{prompt_name!r} is not a prompt that runs read through labels; choose one of "
            f"{', '.join(sorted(tuned_prompts()))}"
        )
    versions = list_versions(prompt_name)
    if version not in versions:
        raise InvalidInput(f"prompt {prompt_name} has no version {version!r} (have: {', '.join(versions)})")


def promote(
    prompt_name: str,
    version: str,
    *,
    label: str = PRODUCTION,
    by: str = "prompt-tuner",
    note: str | None = None,
    experiment_id: str | None = None,
    settings: Settings | None = None,
) -> str | None:
    """Point ``label`` of ``prompt_name`` at ``version``; new runs use it. Returns the version the
    label held before (None: runs used the newest version)."""
    _check_promotable(prompt_name, version, label)
    previous = _store(settings).run(_promote, prompt_name, label, version, by, experiment_id, note)
    log.info("%s %s -> %s (was %s) by %s", prompt_name, label, version, previous or "newest", by)
    return previous


@transaction
def _promote(db: Database, prompt_name: str, label: str, version: str, by: str, experiment_id, note) -> str | None:
    if experiment_id is not None:
        experiment_rows.get_experiment(db, experiment_id)
    return prompt_rows.set_label(db, prompt_name, label, version, by=by, experiment_id=experiment_id, note=note)


def unpromote(
    prompt_name: str,
    *,
    label: str = PRODUCTION,
    by: str = "prompt-tuner",
    note: str | None = None,
    settings: Settings | None = None,
) -> str | None:
    """Remove a label, so new runs use the newest version again; returns the version it held."""
    return _store(settings).run(prompt_rows.clear_label, prompt_name, label, by=by, note=note)


def resolve_all(names: list[str], label: str = PRODUCTION, settings: Settings | None = None) -> dict[str, str]:
    """prompt name -> the version ``label`` points at, else its newest version."""
    rows = _store(settings).run(prompt_rows.list_labels)
    held = {row["prompt_name"]: row["version"] for row in rows if row["label"] == label}
    return {name: held.get(name) or list_versions(name)[-1] for name in names}


def resolve(prompt_name: str, label: str = PRODUCTION, settings: Settings | None = None) -> str:
    """The version of ``prompt_name`` that ``label`` points at, else the newest version."""
    return resolve_all([prompt_name], label, settings)[prompt_name]


def overview(settings: Settings | None = None) -> list[dict]:
    """Every prompt with its versions, what runs use now, its labels and the tasks it serves."""
    served = tuned_prompts()
    labels = _store(settings).run(prompt_rows.list_labels)
    rows = []
    for name in list_prompts():
        mine = {row["label"]: row["version"] for row in labels if row["prompt_name"] == name}
        versions = list_versions(name)
        in_use = mine.get(PRODUCTION, versions[-1]) if name in served else None
        rows.append(
            {"prompt": name, "versions": versions, "in_use": in_use, "labels": mine, "tasks": served.get(name, [])}
        )
    return rows


def history(prompt_name: str | None = None, settings: Settings | None = None) -> list[dict]:
    return _store(settings).run(prompt_rows.label_history, prompt_name)


def pin_run_prompts(db: Database, run_id: str, provider: object) -> dict[str, str]:
    """The prompt versions of ``run_id`` (prompt name -> version), pinning them on first use to
    the production label of each prompt ``provider`` reads, else its newest version."""
    return prompt_rows.pin_run_prompts(db, run_id, newest_prompts(provider))


def run_prompt_versions(run_id: str, settings: Settings | None = None) -> dict[str, str]:
    """Which prompt versions a run used (empty when it generated nothing)."""
    return _store(settings).run(prompt_rows.run_pins, run_id)


def _store(settings: Settings | None):
    return get_store(settings or get_settings())
