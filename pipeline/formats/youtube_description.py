"""YouTube description: plain text within 5,000 characters — what the video is about in the
speaker's own lines, chapters as ``m:ss Title`` lines starting at 0:00 (YouTube makes them
chapters when there are at least three, in order, ten seconds apart or more), the links, and up
to three hashtags. Not a default format: a creator picks it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from pipeline.extractive.material import Material
from pipeline.formats.base import DraftAnswer, FormatSpec, Length, Limits, Measure
from pipeline.formats.shapes import blocks, part, plain_export
from pipeline.models import Draft, QACheck
from pipeline.prompts import Prompt
from pipeline.transcript import timestamp

if TYPE_CHECKING:  # options name formats; a format takes them only as a parameter
    from pipeline.options import JobOptions

LIMITS = Limits(total=5000)
#: YouTube's own rules for chapters in a description.
MIN_CHAPTERS = 3
MIN_CHAPTER_S = 10
MAX_HASHTAGS = 3
_CHAPTER_LINE = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{2})\s+(\S.*)$")


def _seconds(clock: str) -> int:
    parts = [int(p) for p in clock.split(":")]
    return sum(value * 60**power for power, value in enumerate(reversed(parts)))


def chapter_lines(text: str) -> list[tuple[int, str]]:
    """(second, title) of every ``m:ss Title`` line of a description."""
    found = []
    for line in text.splitlines():
        match = _CHAPTER_LINE.match(line)
        if match:
            hours, minutes, seconds, title = match.groups()
            found.append((int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds), title.strip()))
    return found


def chapter_problems(chapters: list[tuple[int, str]], duration: float | None = None) -> list[str]:
    """Why YouTube would not show these as chapters (empty when it would)."""
    if not chapters:
        return []
    problems = []
    if chapters[0][0] != 0:
        problems.append(f"the first chapter starts at {timestamp(chapters[0][0])}, not 0:00")
    if len(chapters) < MIN_CHAPTERS:
        problems.append(f"{len(chapters)} chapter(s); YouTube needs at least {MIN_CHAPTERS}")
    gaps = [b[0] - a[0] for a, b in zip(chapters, chapters[1:], strict=False)]
    if any(gap < MIN_CHAPTER_S for gap in gaps):
        problems.append(f"chapters out of order or under {MIN_CHAPTER_S} s apart")
    if duration is not None and chapters[-1][0] > duration + 1:
        problems.append(f"a chapter starts at {timestamp(chapters[-1][0])}, after the video ends")
    return problems


class ChapterAnswer(BaseModel):
    start: str = Field(description="Where the chapter starts, as m:ss (or h:mm:ss); the first is 0:00.")
    title: str = Field(min_length=2, max_length=80, description="A short title for the chapter.")

    @field_validator("start")
    @classmethod
    def _is_clock(cls, value: str) -> str:
        if not re.fullmatch(r"(?:\d+:)?\d{1,2}:\d{2}", value.strip()):
            raise ValueError(f"{value!r} is not a time; write m:ss, like 4:05")
        return value.strip()


class YouTubeDescriptionAnswer(DraftAnswer):
    """A YouTube video description."""

    summary: str = Field(
        min_length=80, max_length=1500, description="Two to four sentences on what the video is about."
    )
    chapters: list[ChapterAnswer] = Field(min_length=MIN_CHAPTERS, max_length=40)
    links: list[str] = Field(default_factory=list, max_length=5, description="Links to list under the chapters.")
    hashtags: list[str] = Field(default_factory=list, max_length=MAX_HASHTAGS)

    def full_text(self) -> str:
        return self.body()

    def body(self) -> str:
        chapters = "\n".join(f"{c.start} {c.title.strip()}" for c in self.chapters)
        tags = " ".join("#" + t.strip().lstrip("#") for t in self.hashtags if t.strip().lstrip("#"))
        return blocks(self.summary, f"Chapters\n{chapters}", "\n".join(self.links), tags)

    @model_validator(mode="after")
    def _youtube_chapters(self, info: ValidationInfo):
        chapters = [(_seconds(c.start), c.title) for c in self.chapters]
        problems = chapter_problems(chapters, (info.context or {}).get("duration"))
        if problems:
            raise ValueError("chapters: " + "; ".join(problems))
        return self

    def to_draft(self, spec: FormatSpec, options: JobOptions) -> Draft:
        return Draft(format=spec.name, title=self.title.strip(), body=self.body())


def _summary(material: Material, prompt: Prompt) -> str | None:
    top = material.top_quote()
    lines = material.overview or ([top] if top else []) + material.opening  # a short talk has few lines left
    lines = lines[: prompt.params.get("summary_lines", len(lines))]
    if not lines:
        return None
    said = material.said(lines)
    return (
        said
        if material.own_talk
        else part(prompt, "summary_other", "{speaker}: {said}", speaker=material.speaker, said=said)
    )


def _chapters(material: Material) -> str | None:
    chapters, last = [], None
    for item in material.insights.outline:
        second = 0 if not chapters else int(item.start)
        if last is None or second - last >= MIN_CHAPTER_S:
            chapters.append((second, item.title))
            last = second
    if len(chapters) < MIN_CHAPTERS:
        return None
    return "Chapters\n" + "\n".join(f"{timestamp(second)} {title}" for second, title in chapters)


def compose(material: Material, prompt: Prompt) -> Draft:
    tags = " ".join(material.hashtags(min(prompt.params.get("hashtags", MAX_HASHTAGS), MAX_HASHTAGS)))
    body = blocks(
        _summary(material, prompt),
        _chapters(material),
        material.cta_line(prompt.template),
        tags,
    )
    return Draft(format=SPEC.name, title=material.title, body=body[: LIMITS.total])


def check_chapters(draft: Draft, context) -> QACheck:
    """Chapters YouTube will show: from 0:00, at least three, in order, ten seconds apart."""
    problems = chapter_problems(chapter_lines(draft.body), getattr(context, "duration", None))
    reason = "; ".join(problems) if problems else "chapters start at 0:00 and follow YouTube's rules"
    return QACheck(name="chapters", passed=not problems, severity="warning", reason=reason)


def check_no_angle_brackets(draft: Draft, context) -> QACheck:
    """YouTube refuses a description with < or > in it."""
    found = "<" in draft.body or ">" in draft.body
    reason = "holds < or >, which YouTube does not accept in a description" if found else "no < or >"
    return QACheck(name="angle_brackets", passed=not found, severity="warning", reason=reason)


SPEC = FormatSpec(
    name="youtube_description",
    label="YouTube description",
    position=50,
    default=False,
    answer=YouTubeDescriptionAnswer,
    compose=compose,
    exports=(plain_export,),
    measure=Measure("characters", (400, 2500)),
    length=Length(base=80, per_source_word=0.005, floor=80, ceiling=300),
    limits=LIMITS,
    quotes_expected=0,
    checks=(check_chapters, check_no_angle_brackets),
    column_px=640,  # the description under the video on a laptop
    shorter={"summary_lines": 1},
    slots=("overview", "opening"),
    limits_text=f"at most {LIMITS.total:,} characters; chapters as m:ss Title lines from 0:00",
)
