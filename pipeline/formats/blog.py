"""Blog post: an article in Markdown that walks the talk part by part — an introduction from
its most central lines, then a section per outline part with the lines said there (more of them
for a longer part, so an hour yields a longer post than three minutes) and the quote said
there, timed; the call to action last."""

from __future__ import annotations

from pipeline.extractive.material import Material, Section, quote_marks
from pipeline.formats.base import FormatSpec, Length, Measure
from pipeline.formats.shapes import ArticleAnswer, blocks, html_export, markdown_export, part
from pipeline.models import Draft
from pipeline.prompts import Prompt


class BlogAnswer(ArticleAnswer):
    """A blog post."""


def _line_count(section: Section, params: dict) -> int:
    wanted = round(section.words / params.get("source_words_per_line", 80))
    return max(params.get("min_lines", 1), min(wanted, params.get("max_lines", 8)))


def _quote_block(material: Material, section: Section, used: set[str]) -> str | None:
    quote = material.quote_in(section, used)
    if quote is None:
        return None
    used.add(quote.text)
    who = material.who_said(quote) if not material.is_creators(quote) else None
    return f"> {quote_marks(quote.text)} ({who + ', ' if who else ''}{quote.clock})"


def _section(material: Material, section: Section, prompt: Prompt, used: set[str]) -> str | None:
    lines = material.passage(section, _line_count(section, prompt.params))
    quote = _quote_block(material, section, used)
    if not lines and not quote:
        return None
    heading = None if section.kind_of_frame and section is material.sections[0] else f"## {section.title}"
    return blocks(heading, material.said(lines) if lines else None, quote)


def _introduction(material: Material, prompt: Prompt) -> str:
    summary = material.said(material.summary) if material.summary else None
    if material.own_talk:
        return summary or ""
    return blocks(part(prompt, "intro_other", "A talk by {speaker}.", speaker=material.speaker), summary)


def compose(material: Material, prompt: Prompt) -> Draft:
    used: set[str] = set()
    sections = [_section(material, section, prompt, used) for section in material.sections]
    body = blocks(
        f"# {material.title}",
        _introduction(material, prompt),
        *sections,
        material.cta_line(prompt.template),
        material.sign_off(),
    )
    return Draft(format=SPEC.name, title=material.title, body=body + "\n")


SPEC = FormatSpec(
    name="blog",
    label="Blog post",
    position=20,
    answer=BlogAnswer,
    compose=compose,
    exports=(markdown_export, html_export),
    measure=Measure("words", (600, 1600)),
    length=Length(base=200, per_source_word=0.12, floor=200, ceiling=2200),
    markdown=True,
    quotes_expected=2,
    shorter={"min_lines": 1, "max_lines": 2, "source_words_per_line": 400},
    slots=("sections", "summary"),
)
