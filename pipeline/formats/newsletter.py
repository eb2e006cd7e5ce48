"""Newsletter: a short letter in Markdown — an opening, one item per theme (its strongest line
under the theme's name), the talk's best line as a pull quote, a closing line, the call to
action and the sign-off. Shorter and flatter than the blog post, which walks the talk part by
part."""

from __future__ import annotations

from pipeline.extractive.material import Material, quote_marks
from pipeline.formats.base import FormatSpec, Length, Measure
from pipeline.formats.shapes import ArticleAnswer, blocks, html_export, markdown_export, part, titled
from pipeline.models import Draft
from pipeline.prompts import Prompt


class NewsletterAnswer(ArticleAnswer):
    """A newsletter issue."""


def _items(material: Material, prompt: Prompt) -> list[str]:
    """One item per theme (more themes for a longer talk): its strongest line under its name."""
    params = prompt.params
    wanted = params.get("min_items", 3) + material.source_words // params.get("source_words_per_item", 1000)
    items = []
    for theme in material.themes[: min(wanted, params.get("max_items", 6))]:
        line = material.theme_line(theme, "lead", "quote")
        if line is None:
            continue
        said = material.say(line)
        if theme.detail is not None:
            said = f"{said} {material.say(theme.detail)}"
        items.append(titled(theme.title, said, prompt.template.get("item") or "**{title}.** {line}"))
    return items


def _opening(material: Material, prompt: Prompt) -> str | None:
    lines = " ".join(material.say(line) for line in material.opening)
    if material.own_talk:
        return lines
    return blocks(part(prompt, "intro_other", "From a talk by {speaker}:", speaker=material.speaker), lines)


def _pull_quote(material: Material) -> str | None:
    quote = material.top_quote()
    if quote is None:
        return None
    who = material.who_said(quote)
    credit = f" \u2014 {who}" if who and not material.is_creators(quote) else ""
    return f"> {quote_marks(quote.text)}{credit}"


def compose(material: Material, prompt: Prompt) -> Draft:
    closing = material.say(material.closing) if material.closing else None
    body = blocks(
        f"# {material.title}",
        material.greeting(),
        _opening(material, prompt),
        *_items(material, prompt),
        _pull_quote(material),
        closing,
        material.cta_line(prompt.template),
        material.sign_off(),
    )
    return Draft(format=SPEC.name, title=material.title, body=body + "\n")


SPEC = FormatSpec(
    name="newsletter",
    label="Newsletter",
    position=10,
    answer=NewsletterAnswer,
    compose=compose,
    exports=(markdown_export, html_export),
    measure=Measure("words", (350, 900)),
    length=Length(base=150, per_source_word=0.03, floor=150, ceiling=900),
    markdown=True,
    quotes_expected=1,
    distinct_from=("blog",),
    shorter={"min_items": 2, "max_items": 2},
    slots=("lead", "detail", "opening", "closing"),
)
