"""The pipeline's shape, as one table, and the job state machine derived from it.

``PIPELINE`` lists the stages in order: the module that runs each one, the status a job reaches
when it is done, whether it fans out (one step per draft format), where it may stop for a person
and where that person resumes it, which errors end the job in a status other than FAILED, and
its share of a run's progress. Everything else about the pipeline's shape is derived here:

* the statuses of the happy path (``PROGRESS``), which ones are failed, waiting or terminal;
* the table of allowed transitions that every status write goes through (``check_transition``);
* the status a job is in when a stage starts (where a re-run rewinds it to), resume points,
  the terminal status of an error, the order of steps on a page, and a job's progress.

Adding a step is one module (``pipeline/steps/<name>.py``) and one row here. A stage with
``status=None`` leaves the job's status as it was (the statuses are the seed's, a fixed set).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import lru_cache
from types import ModuleType

from pipeline import defaults
from pipeline.errors import ClipInsightError, ErrorCode, InvalidInput

__all__ = [
    "JobStatus",
    "Move",
    "FanOut",
    "Wait",
    "Stage",
    "Pipeline",
    "PIPELINE",
    "PROGRESS",
    "FAILED",
    "WAITING",
    "TERMINAL",
    "DONE",
    "TRANSITIONS",
    "IllegalTransition",
    "UnknownStage",
    "check_transition",
    "load_pipeline",
]


class JobStatus(str, Enum):
    RECEIVED = "RECEIVED"
    VALIDATED = "VALIDATED"
    INGESTED = "INGESTED"
    TRANSCRIBED = "TRANSCRIBED"
    INSIGHTS = "INSIGHTS"
    DRAFTED = "DRAFTED"
    REVIEWED = "REVIEWED"
    DELIVERED = "DELIVERED"
    STORED = "STORED"
    ANALYTICS_LOGGED = "ANALYTICS_LOGGED"
    FAILED = "FAILED"
    FAILED_VALIDATION = "FAILED_VALIDATION"
    BLOCKED_ENTITLEMENT = "BLOCKED_ENTITLEMENT"
    REQUIRES_MANUAL_REVIEW = "REQUIRES_MANUAL_REVIEW"
    NEEDS_USER_INPUT = "NEEDS_USER_INPUT"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def active(self) -> bool:
        return not self.terminal


class Move(str, Enum):
    """Why a transition happens; some edges are only open to some kinds of move."""

    STEP = "step"  # a step finished or failed
    APPROVE = "approve"  # an editor approved flagged drafts
    REJECT = "reject"  # an editor rejected them
    PROVIDE = "provide"  # a creator provided the transcript the job waited for
    CANCEL = "cancel"  # a creator cancelled
    RERUN = "rerun"  # a new run restarts the job from an earlier step


S = JobStatus


class UnknownStage(InvalidInput):
    pass


@dataclass(frozen=True)
class FanOut:
    """A stage that runs one step per value of a job option, in parallel, joined before the
    next stage: step ``<prefix>:<value>``, the value given to the step as ``params[param]``."""

    prefix: str
    option: str
    param: str

    def steps(self, options: object) -> list[str]:
        """``options``: a job's options, as the model or as stored (a mapping)."""
        values = options[self.option] if isinstance(options, Mapping) else getattr(options, self.option)
        return [f"{self.prefix}:{getattr(value, 'value', value)}" for value in values]

    def owns(self, step: str) -> bool:
        return step.startswith(f"{self.prefix}:")

    def params(self, step: str) -> dict[str, str]:
        return {self.param: step.split(":", 1)[1]}


@dataclass(frozen=True)
class Wait:
    """A stage may stop the job in ``status`` for a person; ``resumed_by`` moves it on, at this
    stage again (``resume_next=False``: e.g. with a transcript the creator provided) or at the next
    one (an editor's approval). ``rejected_by`` ends it."""

    status: JobStatus
    resumed_by: Move
    resume_next: bool
    rejected_by: Move | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    #: The step module (dotted path, or the module itself): ``Inputs``, ``Outputs``, ``run``.
    module: str | ModuleType | object
    #: The statuses a job passes through when the stage is done (None: it keeps its status).
    status: JobStatus | tuple[JobStatus, ...] | None
    #: What the UI says while the stage runs.
    activity: str
    timeout_s: int = defaults.STEP_TIMEOUT_S
    fan_out: FanOut | None = None
    wait: Wait | None = None
    #: Errors that end the job in a status of their own instead of FAILED.
    failures: Mapping[ErrorCode, JobStatus] = field(default_factory=dict)
    #: The stage's share of a typical run's time, for progress bars.
    weight: float = 1.0
    #: Makes content from the transcript: re-running from the first such stage regenerates it.
    content: bool = False
    #: The RQ queue its steps go to, so hosts can be sized apart: ``media`` (downloads, ffmpeg,
    #: speech recognition: CPU-bound), ``llm`` (waiting on a language model), ``default``.
    queue: str = "default"

    @property
    def statuses(self) -> tuple[JobStatus, ...]:
        if self.status is None:
            return ()
        return self.status if isinstance(self.status, tuple) else (self.status,)

    def load(self) -> ModuleType | object:
        return importlib.import_module(self.module) if isinstance(self.module, str) else self.module


class Pipeline:
    """An ordered table of stages and what follows from it."""

    def __init__(self, stages: Sequence[Stage]):
        self.stages = tuple(stages)
        self._by_name = {stage.name: stage for stage in self.stages}
        if len(self._by_name) != len(self.stages):
            raise ValueError("two stages share a name")

    # --- Stages and steps ---

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def stage(self, name: str) -> Stage:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownStage(f"no step named {name!r}; choose one of {', '.join(self.names)}") from None

    def stage_of(self, step: str) -> Stage:
        """The stage a step belongs to (``draft:blog`` -> drafts)."""
        for stage in self.stages:
            if stage.name == step or (stage.fan_out and stage.fan_out.owns(step)):
                return stage
        raise UnknownStage(f"no stage runs a step named {step!r}")

    def steps_of(self, name: str, options: object) -> list[str]:
        stage = self.stage(name)
        return stage.fan_out.steps(options) if stage.fan_out else [stage.name]

    def step_order(self, options: object) -> list[str]:
        return [step for stage in self.stages for step in self.steps_of(stage.name, options)]

    def first(self) -> Stage:
        return self.stages[0]

    def queues(self) -> list[str]:
        return sorted({stage.queue for stage in self.stages})

    def first_content_stage(self) -> Stage:
        return next((stage for stage in self.stages if stage.content), self.stages[0])

    def next(self, name: str) -> Stage | None:
        index = self.names.index(self.stage(name).name)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None

    def replace(self, name: str, **changes) -> Pipeline:
        """A copy with one stage changed (a test or benchmark swaps a step module)."""
        return Pipeline([replace(s, **changes) if s.name == name else s for s in self.stages])

    def insert_after(self, name: str, stage: Stage) -> Pipeline:
        index = self.names.index(self.stage(name).name)
        return Pipeline([*self.stages[: index + 1], stage, *self.stages[index + 1 :]])

    # --- Statuses ---

    def status_before(self, name: str) -> JobStatus:
        """The status a job is in when the stage starts (where a re-run rewinds it to)."""
        before = S.RECEIVED
        for stage in self.stages:
            if stage.name == self.stage(name).name:
                return before
            before = stage.statuses[-1] if stage.statuses else before
        raise AssertionError("unreachable")

    def progress_statuses(self) -> tuple[JobStatus, ...]:
        return (S.RECEIVED, *(status for stage in self.stages for status in stage.statuses))

    def failure_status(self, code: ErrorCode, step: str) -> JobStatus:
        """The terminal status a non-retryable (or exhausted) error leaves the job in."""
        return self.stage_of(step).failures.get(ErrorCode(code), S.FAILED)

    def failed_statuses(self) -> frozenset[JobStatus]:
        return frozenset({S.FAILED, *(status for stage in self.stages for status in stage.failures.values())})

    def waiting_statuses(self) -> frozenset[JobStatus]:
        return frozenset(stage.wait.status for stage in self.stages if stage.wait)

    def resume_point(self, waiting: JobStatus) -> tuple[Stage, JobStatus, Move]:
        """Where a job resting in ``waiting`` goes on when a person moves it: (the stage that runs
        next, the status the job takes, the move that takes it there)."""
        for stage in self.stages:
            if stage.wait and stage.wait.status is JobStatus(waiting):
                resume = self.next(stage.name) if stage.wait.resume_next else stage
                return resume, self.status_before(resume.name), stage.wait.resumed_by
        raise UnknownStage(f"no stage waits in {JobStatus(waiting).value}")

    def rejection(self, waiting: JobStatus) -> Move | None:
        return next((s.wait.rejected_by for s in self.stages if s.wait and s.wait.status is waiting), None)

    # --- Progress ---

    def progress(self, running: str | None, share: float, status: JobStatus) -> float:
        """0..1: the weight of the stages done plus ``share`` of the running stage. Without a
        running stage (between commits) the status tells how far the job is."""
        total = sum(stage.weight for stage in self.stages)
        if running is None:
            index = self._stages_done_by(status)
            share = 0.0
        else:
            index = self.names.index(self.stage_of(running).name)
        done = sum(stage.weight for stage in self.stages[:index])
        current = self.stages[index].weight * share if index < len(self.stages) else 0.0
        return round(min((done + current) / total, 1.0), 3)

    def _stages_done_by(self, status: JobStatus) -> int:
        done = 0
        for index, stage in enumerate(self.stages):
            if status in stage.statuses:
                done = index + 1
        return done

    # --- The state machine ---

    def transitions(self) -> dict[tuple[JobStatus, JobStatus], frozenset[Move]]:
        """(from, to) -> the moves that may take that edge."""
        edges: dict[tuple[JobStatus, JobStatus], set[Move]] = {}

        def allow(here: JobStatus, to: JobStatus, move: Move) -> None:
            edges.setdefault((here, to), set()).add(move)

        path = self.progress_statuses()
        for here, nxt in zip(path, path[1:], strict=False):
            allow(here, nxt, Move.STEP)
        for here in path[:-1]:
            allow(here, S.FAILED, Move.STEP)
        terminal = self.terminal_statuses()
        for stage in self.stages:
            before = self.status_before(stage.name)
            for status in stage.failures.values():
                allow(before, status, Move.STEP)
            if stage.wait:
                allow(before, stage.wait.status, Move.STEP)
                resume, status, move = self.resume_point(stage.wait.status)
                allow(stage.wait.status, status, move)
                if stage.wait.rejected_by:
                    allow(stage.wait.status, S.FAILED, stage.wait.rejected_by)
        for status in JobStatus:
            if status not in terminal:
                allow(status, S.FAILED, Move.CANCEL)
        for here in terminal:
            for to in path[:-1]:
                allow(here, to, Move.RERUN)
        return {key: frozenset(moves) for key, moves in edges.items()}

    def terminal_statuses(self) -> frozenset[JobStatus]:
        """Statuses a job rests in until a person (or a re-run) moves it."""
        return frozenset({self.progress_statuses()[-1], *self.failed_statuses(), *self.waiting_statuses()})


# --- The pipeline ---------------------------------------------------------------------------

_INPUT_FAILURES = {
    ErrorCode.INVALID_INPUT: S.FAILED_VALIDATION,
    ErrorCode.QUOTA_EXCEEDED: S.BLOCKED_ENTITLEMENT,
}

PIPELINE = Pipeline(
    [
        Stage(
            "validate", "pipeline.steps.validate", S.VALIDATED, "Checking the source", failures=_INPUT_FAILURES,
            weight=0.2,
        ),
        Stage(
            "ingest", "pipeline.steps.ingest", S.INGESTED, "Fetching the media", failures=_INPUT_FAILURES,
            timeout_s=defaults.LONG_STEP_TIMEOUT_S, weight=1.5, queue="media",
        ),
        Stage(
            "transcribe", "pipeline.steps.transcribe", S.TRANSCRIBED, "Transcribing",
            timeout_s=defaults.LONG_STEP_TIMEOUT_S, weight=3.0, queue="media",
            wait=Wait(S.NEEDS_USER_INPUT, resumed_by=Move.PROVIDE, resume_next=False),
        ),
        Stage(
            "insights", "pipeline.steps.insights", S.INSIGHTS, "Finding insights", weight=1.5, content=True,
            queue="llm",
        ),
        Stage(
            "drafts", "pipeline.steps.drafts", S.DRAFTED, "Writing drafts", weight=2.0, content=True, queue="llm",
            fan_out=FanOut(prefix="draft", option="formats", param="format"),
        ),
        Stage(
            "qa_review", "pipeline.steps.qa_review", S.REVIEWED, "Reviewing the drafts", content=True, queue="llm",
            wait=Wait(S.REQUIRES_MANUAL_REVIEW, resumed_by=Move.APPROVE, resume_next=True, rejected_by=Move.REJECT),
        ),
        Stage(
            "deliver", "pipeline.steps.deliver", (S.DELIVERED, S.STORED, S.ANALYTICS_LOGGED), "Delivering",
            weight=0.3,
        ),
    ]
)  # fmt: skip

#: The happy path, in order.
PROGRESS = PIPELINE.progress_statuses()
#: Where a job ends when everything went well.
DONE = PROGRESS[-1]
#: Statuses of a job that failed (a retry starts a new run from the failed stage).
FAILED = PIPELINE.failed_statuses()
#: Statuses of a job that waits for a person (an editor's decision, a creator's transcript).
WAITING = PIPELINE.waiting_statuses()
TERMINAL = PIPELINE.terminal_statuses()
TRANSITIONS = PIPELINE.transitions()


class IllegalTransition(ClipInsightError):
    pass


def check_transition(current: JobStatus, target: JobStatus, move: Move = Move.STEP) -> None:
    """Every status write goes through here (``pipeline.store.jobs`` calls it)."""
    current, target = JobStatus(current), JobStatus(target)
    if Move(move) not in TRANSITIONS.get((current, target), frozenset()):
        raise IllegalTransition(f"a job cannot go from {current.value} to {target.value} ({Move(move).value})")


@lru_cache(maxsize=8)
def load_pipeline(dotted: str | None) -> Pipeline:
    """``package.module:NAME`` -> a pipeline (tests add a stage or slow a step this way);
    None -> the default table."""
    if not dotted:
        return PIPELINE
    module_name, _, attribute = dotted.partition(":")
    found = getattr(importlib.import_module(module_name), attribute or "PIPELINE")
    if not isinstance(found, Pipeline):
        raise TypeError(f"{dotted} is not a Pipeline")
    return found


def statuses(values: Iterable[JobStatus]) -> list[str]:
    """Status values for SQL parameters."""
    return sorted(JobStatus(v).value for v in values)
