"""Differences between two texts, as editors read them: a unified diff and a count of changes."""

from __future__ import annotations

import difflib

from pipeline.export import draft_text
from pipeline.models import Draft

__all__ = ["unified", "change_counts", "draft_diff", "text_similarity"]


def unified(
    before: str, after: str, *, before_label: str = "before", after_label: str = "after", context: int = 2
) -> str:
    """A unified diff; empty when the texts are equal."""
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), fromfile=before_label, tofile=after_label, n=context, lineterm=""
    )
    return "\n".join(lines)


def change_counts(before: str, after: str) -> tuple[int, int]:
    """(lines added, lines removed)."""
    added = removed = 0
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("+ "):
            added += 1
        elif line.startswith("- "):
            removed += 1
    return added, removed


def draft_diff(old: Draft, new: Draft, *, old_label: str, new_label: str) -> str:
    """Two versions of a draft compared as their title and text."""
    return unified(draft_text(old), draft_text(new), before_label=old_label, after_label=new_label)


def text_similarity(a: str, b: str) -> float:
    """0..1: how much of two texts is the same (1.0: identical), as an editor's diff sees it."""
    return round(difflib.SequenceMatcher(None, a, b, autojunk=False).ratio(), 4)
