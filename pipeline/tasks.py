"""The tasks prompts serve, and which prompt a provider reads for each.

A task is one thing a step asks of a content provider: ``insights``, ``draft:<format>`` (one per
draft format) or ``qa_judge``. Each provider names the prompt file it reads for a task
(``provider.prompt_name(task)``, e.g. ``local_draft_linkedin`` offline, ``draft_linkedin`` on
Gemini); labels, run pins and experiments are all keyed by that prompt name.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline import formats
from pipeline.errors import InvalidInput
from pipeline.prompts import list_versions

__all__ = [
    "TASKS",
    "INSIGHTS",
    "QA_JUDGE",
    "draft_task",
    "check_task",
    "draft_format",
    "prompt_name_for",
    "pinned_version",
    "newest_prompts",
]

INSIGHTS = "insights"
QA_JUDGE = "qa_judge"
TASKS = (INSIGHTS, *(spec.task for spec in formats.specs()), QA_JUDGE)


def draft_task(fmt: str) -> str:
    return formats.get(fmt).task


def check_task(task: str) -> str:
    if task not in TASKS:
        raise InvalidInput(f"no task named {task!r}; choose one of {', '.join(TASKS)}")
    return task


def draft_format(task: str) -> str | None:
    """The draft format of a ``draft:<format>`` task; None for the other tasks."""
    spec = formats.of_task(task)
    return spec.name if spec else None


def prompt_name_for(provider: object, task: str) -> str | None:
    """The prompt ``provider`` reads for ``task``; None when it reads none (no judge, or a
    custom provider that does not say)."""
    namer = getattr(provider, "prompt_name", None)
    return namer(check_task(task)) if callable(namer) else None


def pinned_version(provider: object, task: str, pins: Mapping[str, str]) -> str | None:
    """The version of the provider's prompt for ``task`` that a run is pinned to (None: newest)."""
    name = prompt_name_for(provider, task)
    return pins.get(name) if name else None


def newest_prompts(provider: object) -> dict[str, str]:
    """prompt name -> newest version, for every prompt ``provider`` reads for a task: what a run
    is pinned to when the prompt has no production label."""
    names = {name for task in TASKS if (name := prompt_name_for(provider, task))}
    return {name: list_versions(name)[-1] for name in sorted(names)}
