"""What a step reads and writes, declared on the fields of its ``Inputs`` and ``Outputs``.

Every field of a step's ``Inputs`` names where its value comes from, and every field of its
``Outputs`` names where it goes::

    class Inputs(BaseModel):
        job: Annotated[JobInfo, reads.JOB]
        transcript: Annotated[Transcript, reads.artifact("transcript")]

    class Outputs(StepOutputs):
        insights: Annotated[InsightPack, writes.artifact("insights")]

The runner loads what the inputs declare (in the store, in the claim's transaction) and saves
what the outputs declare (in the completion's transaction). A field without a declaration is an
error found when the step registry is built, not when a job runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

__all__ = ["Read", "Write", "declared_reads", "declared_writes", "UndeclaredField"]


class UndeclaredField(TypeError):
    pass


@dataclass(frozen=True)
class Read:
    """A source of a step input. ``source`` is one the store knows how to load (see
    ``pipeline.store.inputs``); ``kind`` names the artifact for ``source="artifact"``."""

    source: str
    kind: str | None = None

    def as_request(self) -> list[str | None]:
        return [self.source, self.kind]


@dataclass(frozen=True)
class Write:
    """Where an output goes: ``artifact`` (kind, formatted with the step's params, e.g.
    ``draft:{format}``), ``draft_version`` (appended to a draft's history, with ``source``),
    ``record`` (a usage or webhook row), ``job_field`` (a column of the job row), or ``reserve``
    (plan minutes to hold for the job)."""

    target: str
    kind: str | None = None
    source: str | None = None
    note: str | None = None

    def artifact_kind(self, params: dict) -> str:
        return (self.kind or "").format(**params)


class reads:  # noqa: N801  (a namespace: ``reads.JOB``, ``reads.artifact("transcript")``)
    JOB = Read("job")
    PLAN = Read("plan")
    WORKSPACE = Read("workspace")
    #: The latest version of each draft the job asked for.
    DRAFTS = Read("drafts")
    #: Tokens and cost of the job's artifacts so far.
    COSTS = Read("costs")
    #: The prompt versions the run is pinned to (pinned on first use).
    PROMPT_PINS = Read("prompt_pins")
    #: The workspace's voice profile, as the run is pinned to it (pinned on first use).
    VOICE = Read("voice")
    #: What the run asks beyond the job's options (regenerate some drafts, with an instruction).
    RUN_REQUEST = Read("run_request")

    @staticmethod
    def artifact(kind: str) -> Read:
        return Read("artifact", kind)


class writes:  # noqa: N801
    RECORD = Write("record")
    #: Plan minutes the job needs, held for it when the step commits (if the plan still has them).
    RESERVED_MINUTES = Write("reserve")

    @staticmethod
    def artifact(kind: str) -> Write:
        return Write("artifact", kind)

    @staticmethod
    def draft_version(source: str, note: str | None = None) -> Write:
        return Write("draft_version", source=source, note=note)

    @staticmethod
    def job_field(name: str) -> Write:
        """A column of the job row (``title``): set when the value is not None."""
        return Write("job_field", kind=name)


def _declared(model: type[BaseModel], kind: type) -> dict[str, list]:
    found = {}
    for name, info in model.model_fields.items():
        marks = [mark for mark in info.metadata if isinstance(mark, kind)]
        if not marks:
            raise UndeclaredField(
                f"{model.__module__}.{model.__qualname__}.{name} does not say where it "
                f"{'comes from' if kind is Read else 'goes'} (annotate it with a {kind.__name__})"
            )
        found[name] = marks
    return found


def declared_reads(model: type[BaseModel]) -> dict[str, Read]:
    return {name: marks[0] for name, marks in _declared(model, Read).items()}


def declared_writes(model: type[BaseModel]) -> dict[str, list[Write]]:
    return _declared(model, Write)
