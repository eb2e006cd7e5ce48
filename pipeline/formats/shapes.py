"""Pieces the format specs share: joining blocks of text, the exports (Markdown, HTML, plain
text, a thread ready to paste), and the LLM answer shapes most formats use.

Exports never let markup through from the text: HTML is rendered from Markdown with raw HTML
disabled (a ``<script>`` in a draft arrives as the words ``<script>``), links only where
markdown-it allows them (never ``javascript:``, ``vbscript:``, ``file:`` or ``data:``) and no
images (nothing a draft says makes a reader's browser fetch from a server); plain-text exports
drop Markdown headings and rules. The editor's preview of an article is the same HTML.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Annotated

from markdown_it import MarkdownIt
from pydantic import Field, create_model

from pipeline.formats.base import Choice, DraftAnswer, Export, FormatSpec, Limits
from pipeline.models import Draft
from pipeline.text import number_posts, numbering_width, split_to_fit, strip_numbering

if TYPE_CHECKING:  # options name formats; a format takes them only as a parameter
    from pipeline.options import JobOptions

__all__ = [
    "blocks",
    "part",
    "titled",
    "article_html",
    "markdown_export",
    "html_export",
    "plain_export",
    "thread_export",
    "ArticleAnswer",
    "PlainPostAnswer",
    "ThreadAnswer",
    "thread_answer",
]

_HEADING = re.compile(r"^\s*#{1,6}\s+")
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_TIMESTAMP = re.compile(r"\s*[(\[]?\b\d{1,2}:\d{2}(?::\d{2})?\b[)\]]?")
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")


def blocks(*parts: str | None) -> str:
    """Non-empty parts, one blank line apart."""
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def part(prompt, name: str, default: str, **values: object) -> str:
    """A template part of a composer's prompt, or ``default`` when its version has none (the
    versions before the honest composer had other parts)."""
    if name in prompt.template:
        return prompt.render(name, **values)
    return default.format(**values)


def titled(title: str, text: str, template: str) -> str:
    """A line under a bold label (``template`` holds ``{title}`` and ``{line}``); when the line
    already opens with the label's words, the opening is made bold instead of said twice."""
    head = text.lstrip('\u201c"')
    if not head.lower().startswith(title.lower()):
        return template.replace("{title}", title).replace("{line}", text)
    if "**" not in template:  # plain text: the line alone says it
        return template.split("{title}")[0] + text
    opening, cut = len(text) - len(head), len(text) - len(head) + len(title)
    return f"{text[:opening]}**{text[opening:cut]}**{text[cut:]}"


def _markdown(draft: Draft) -> str:
    body = draft.body.strip()
    return body + "\n" if body.startswith("#") else f"# {draft.title}\n\n{body}\n"


def article_html(draft: Draft) -> str:
    """The draft's Markdown (under its title) as an HTML fragment; markup in the text stays text."""
    return _MARKDOWN.render(_markdown(draft))


def _html(draft: Draft) -> str:
    """A standalone HTML page of the draft; markup in the text stays text."""
    rendered = article_html(draft)
    return (
        f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{html.escape(draft.title)}</title></head>\n'
        f"<body>\n{rendered}</body></html>\n"
    )


def _plain(draft: Draft) -> str:
    """Plain text as a platform takes it: no Markdown headings or rules, paragraphs one blank
    line apart (where a rule stood too)."""
    lines = [line for line in draft.body.strip().splitlines() if not _RULE.match(line)]
    text = "\n".join(_HEADING.sub("", line) for line in lines)
    return re.sub(r"\n\s*\n(?:\s*\n)+", "\n\n", text).strip() + "\n"


NUMBERED = Choice("numbered", "Number the posts (1/7, 2/7, ...)", default=True)
TIMESTAMPS = Choice(
    "timestamps",
    "Keep video timestamps like (0:45)",
    default=False,
    help="They mean nothing to a reader unless the thread links the video.",
)


def _thread_post(post: str, timestamps: bool) -> str:
    """One post's words as pasted: no number, heading or separator, one paragraph apart at most
    (a blank line separates posts in the file), and video timestamps only when asked for."""
    text = strip_numbering(post)
    text = text if timestamps else _TIMESTAMP.sub("", text)
    text = "\n".join(_HEADING.sub("", line) for line in text.splitlines() if not _RULE.match(line))
    return re.sub(r"\n\s*\n", "\n", text).strip()


def thread_export(limits: Limits) -> Export:
    """A thread as its posts, one blank line apart, ready to paste one by one. A post over the
    platform's limit (an editor may save one) is split at a sentence so that every post pastes."""

    def render(draft: Draft, numbered: bool = True, timestamps: bool = False) -> str:
        posts = draft.posts or [p for p in draft.body.split("\n\n") if p.strip()]
        texts = [text for post in posts if (text := _thread_post(post, timestamps))]
        room = limits.per_post - (numbering_width(limits.max_posts) if numbered else 0)
        pieces = [piece for text in texts for piece in split_to_fit(text, room)]
        return "\n\n".join(number_posts(pieces) if numbered else pieces) + "\n"

    return Export(".txt", "text/plain", render, "posts, ready to paste one by one", (NUMBERED, TIMESTAMPS))


markdown_export = Export(".md", "text/markdown", _markdown, "Markdown")
html_export = Export(".html", "text/html", _html, "HTML")
plain_export = Export(".txt", "text/plain", _plain, "plain text, ready to paste")


# --- LLM answers -------------------------------------------------------------------------------


class ArticleAnswer(DraftAnswer):
    """An article in Markdown."""

    body: str = Field(min_length=200, description="The text in Markdown, without the title.")

    def full_text(self) -> str:
        return self.body

    def to_draft(self, spec: FormatSpec, options: JobOptions) -> Draft:
        return Draft(format=spec.name, title=self.title.strip(), body=self.body.strip() + "\n")


class PlainPostAnswer(DraftAnswer):
    """A post as plain text."""

    body: str = Field(min_length=200, description="The post as plain text.")

    def full_text(self) -> str:
        return self.body

    def to_draft(self, spec: FormatSpec, options: JobOptions) -> Draft:
        return Draft(format=spec.name, title=self.title.strip(), body=self.body.strip())


class ThreadAnswer(DraftAnswer):
    """A thread of posts (the subclass made by :func:`thread_answer` sets the post limit)."""

    posts: list[str]

    def full_text(self) -> str:
        return "\n\n".join(self.posts)

    def to_draft(self, spec: FormatSpec, options: JobOptions) -> Draft:
        draft = Draft(format=spec.name, title=self.title.strip(), body="")
        return spec.with_posts(draft, [p.strip() for p in self.posts])


def thread_answer(name: str, post_room: int, min_posts: int = 3, max_posts: int = 15) -> type[ThreadAnswer]:
    """A thread answer whose posts fit ``post_room`` characters (the limit less the numbering
    added afterwards); ``name`` is the schema's title, which tells the model what is wanted."""
    post = Annotated[str, Field(min_length=1, max_length=post_room)]
    fields = {
        "posts": (
            list[post],
            Field(
                min_length=min_posts,
                max_length=max_posts,
                description=f"The posts in order, unnumbered, each at most {post_room} characters.",
            ),
        )
    }
    return create_model(name, __base__=ThreadAnswer, __doc__="A thread of posts.", **fields)
