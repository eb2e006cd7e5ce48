"""What a piece of work may use besides its inputs: who it is, settings, logging, progress,
provenance, a once-only guard for side effects such as webhooks, and a small memory a step
keeps across its own attempts (``recall``/``remember``) so a retry repeats only what failed.

Steps get one from the runner; the domain modules a step calls (``sources``, ``transcription``)
take the same object, so they log and report progress the same way without knowing about steps.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.models import Provenance
from pipeline.settings import Settings

__all__ = ["StepContext"]

logger = logging.getLogger("clipinsight.steps")


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class StepContext:
    job_id: str
    run_id: str
    step: str
    attempt: int
    settings: Settings
    params: dict = field(default_factory=dict)
    report_progress: Callable[[float], None] = lambda fraction: None
    claim_once: Callable[[str], bool] = lambda key: True
    recall: Callable[[str], str | None] = lambda key: None
    remember: Callable[[str, str], None] = lambda key, value: None
    log_lines: list[tuple] = field(default_factory=list)
    provenance: dict[str, Provenance] = field(default_factory=dict)

    def log(self, level: str, message: str) -> None:
        self.log_lines.append((self.job_id, self.run_id, self.step, self.attempt, _utcnow(), level.upper(), message))
        logger.log(getattr(logging, level.upper(), logging.INFO), "%s %s: %s", self.run_id, self.step, message)

    def info(self, message: str) -> None:
        self.log("INFO", message)

    def warning(self, message: str) -> None:
        self.log("WARNING", message)

    def error(self, message: str, exc: BaseException | None = None) -> None:
        if exc is not None:
            message = f"{message}\n{''.join(traceback.format_exception(exc)).strip()}"
        self.log("ERROR", message)

    def progress(self, fraction: float) -> None:
        self.report_progress(max(0.0, min(1.0, fraction)))

    def record(self, kind: str, provenance: Provenance) -> None:
        self.provenance[kind] = provenance
