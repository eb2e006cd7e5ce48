"""What a creator asks of a job — the draft formats, tone, call-to-action link, whose talk it is,
a title — what a creator asks of one run of it (regenerate one draft, with an instruction), and
what the runner tells a step about its job.

These sit above :mod:`pipeline.formats` (the options name formats, and only the format specs know
which exist and which a job gets by default) and below everything that runs a job. The format
specs and the offline composers below them take options in their signatures only, so they import
this module for type checking alone: the import graph has no loop.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, field_validator

from pipeline import formats

__all__ = [
    "FormatName",
    "TONES",
    "MAX_NAME_CHARS",
    "MAX_INSTRUCTION_CHARS",
    "SUGGESTED_INSTRUCTIONS",
    "JobOptions",
    "RunRequest",
    "JobInfo",
]


def _known_format(name: str) -> str:
    return formats.check_name(name)


#: A draft format's name (``newsletter``, ...): one of the specs in :mod:`pipeline.formats`.
FormatName = Annotated[str, AfterValidator(_known_format)]

TONES = ("friendly", "professional", "bold")
#: Longest speaker name and title a creator may give.
MAX_NAME_CHARS = 120
#: Longest instruction for a regenerated draft: a request ("shorter, lead with the story"), not
#: a prompt.
MAX_INSTRUCTION_CHARS = 200
#: What the page suggests; the offline writer follows exactly these (an LLM follows anything).
SUGGESTED_INSTRUCTIONS = ("shorter", "more technical", "lead with the story")


class JobOptions(BaseModel):
    """What the creator asked for at submission; part of the duplicate-submission key. Every
    entry (pages, CLI, API) builds one, so its validators are where the options' rules live.

    ``speaker`` says whose talk it is: None for the creator's own, else the name of the person
    speaking (drafts then quote and attribute them and never call the talk the creator's).
    ``title``, when given, is the job's title; otherwise the insight pack's title becomes it.
    """

    formats: list[FormatName] = Field(default_factory=lambda: formats.default_names())
    tone: str = "friendly"
    cta_url: str | None = None
    speaker: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    title: str | None = Field(default=None, max_length=MAX_NAME_CHARS)

    @field_validator("formats")
    @classmethod
    def _formats_not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("choose at least one draft format")
        return formats.in_order(set(value))

    @field_validator("tone")
    @classmethod
    def _known_tone(cls, value: str) -> str:
        if value not in TONES:
            raise ValueError(f"tone must be one of {', '.join(TONES)}")
        return value

    @field_validator("speaker", "title")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        value = " ".join((value or "").split())
        return value or None

    @property
    def own_talk(self) -> bool:
        return self.speaker is None

    @field_validator("cta_url")
    @classmethod
    def _cta_is_a_web_link(cls, value: str | None) -> str | None:
        """A call-to-action link goes into published drafts: an http(s) address with a host,
        without spaces or markup, or nothing."""
        value = (value or "").strip() or None
        if value is None:
            return None
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or "." not in (parts.hostname or "")
            or any(c in value for c in " <>\"'\n")
        ):
            raise ValueError("the call-to-action link must be a web address starting with https:// (or http://)")
        if len(value) > 500:
            raise ValueError("the call-to-action link is longer than 500 characters")
        return value


class RunRequest(BaseModel):
    """What one run asks beyond the job's options: regenerate only some of its drafts, following
    a creator's instruction. The instruction is untrusted text: one line, bounded, with no
    control characters; it reaches a model as a quoted request, never as a system rule, and a
    page shows it as text."""

    formats: list[FormatName] | None = None  # None: every format the job asked for
    instruction: str | None = None

    @field_validator("instruction", mode="before")
    @classmethod
    def _one_plain_line(cls, value: object) -> str | None:
        text = " ".join("".join(c if c.isprintable() else " " for c in str(value or "")).split())
        if len(text) > MAX_INSTRUCTION_CHARS:
            raise ValueError(
                f"an instruction is at most {MAX_INSTRUCTION_CHARS} characters; say what to change in a few words"
            )
        return text or None

    @field_validator("formats")
    @classmethod
    def _some_formats(cls, value: list[str] | None) -> list[str] | None:
        return formats.in_order(set(value)) if value else None

    @property
    def regenerates(self) -> bool:
        return self.formats is not None or self.instruction is not None

    def note(self) -> str:
        """How a version this run made says where it came from."""
        return f"regenerated: {self.instruction}" if self.instruction else "regenerated"


class JobInfo(BaseModel):
    job_id: str
    workspace: str
    source_kind: str
    source: str
    options: JobOptions
    title: str | None = None
    duration_s: float | None = None
    metadata: dict = {}
    plan_exempt: bool = False  # a bundled sample run: the plan does not cover or count it
