"""The draft formats: one spec module per format in this package, found by looking.

Every module here that defines ``SPEC`` (a :class:`FormatSpec`) is a format; ``base`` and
``shapes`` are the shared parts. Everything outside this package — QA, the providers, the pages,
the exports, the step registry — iterates over :func:`specs` or looks one up with :func:`get`;
none of it names a format. Adding a format is one module here and its prompt files
(``draft_<name>`` for an LLM, ``local_draft_<name>`` for the offline composer).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache

from pipeline.formats.base import DraftAnswer, Export, FormatSpec, Length, Limits, Measure

__all__ = [
    "FormatSpec",
    "Limits",
    "Export",
    "Measure",
    "Length",
    "DraftAnswer",
    "specs",
    "get",
    "names",
    "default_names",
    "check_name",
    "in_order",
    "label",
    "of_task",
]

_SHARED = frozenset({"base", "shapes"})


@cache
def _registry() -> dict[str, FormatSpec]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        if module.name in _SHARED or module.name.startswith("_"):
            continue
        spec = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SPEC", None)
        if isinstance(spec, FormatSpec):
            found.append(spec)
    return {spec.name: spec for spec in sorted(found, key=lambda s: (s.position, s.name))}


def specs() -> list[FormatSpec]:
    """Every format, in the order pages and reports show them."""
    return list(_registry().values())


def names() -> list[str]:
    return list(_registry())


def default_names() -> list[str]:
    """The formats a job gets when the creator does not choose."""
    return [spec.name for spec in specs() if spec.default]


def check_name(name: str) -> str:
    """``name`` when it is a format; a ValueError that lists the formats otherwise."""
    if name not in _registry():
        raise ValueError(f"unknown draft format {name!r}; choose from {', '.join(names())}")
    return name


def get(name: str) -> FormatSpec:
    return _registry()[check_name(name)]


def label(name: str) -> str:
    return get(name).label


def in_order(chosen: Iterable[str]) -> list[str]:
    """``chosen`` formats in the usual order."""
    wanted = set(chosen)
    return [name for name in _registry() if name in wanted]


def of_task(task: str) -> FormatSpec | None:
    """The format of a ``draft:<name>`` task; None for other tasks."""
    return get(task.split(":", 1)[1]) if task.startswith("draft:") else None
