"""What a draft format is: one :class:`FormatSpec` holds everything the product needs to know
about it, so that adding a format is one spec module (plus its prompt files) and nothing else.

A spec says:

- what it is called (``name``: artifact kind ``draft:<name>``, prompts ``draft_<name>`` for an
  LLM and ``local_draft_<name>`` for the offline composer) and how people see it (``label``);
- whether a job gets it unless the creator chooses (``default``);
- its platform limits (:class:`Limits`): characters per post, in total, posts per thread;
- its shape: a thread of numbered posts or one body, Markdown or plain text; how the editor
  shows it and reads it back;
- the answer an LLM must give (``answer``, a :class:`DraftAnswer`), and the offline composer;
- its exports (:class:`Export`): what a creator pastes into the platform, with the choices a
  creator may make about them (:class:`Choice`: numbered posts, video timestamps kept);
- how the editor counts it against the platform's limits (:meth:`FormatSpec.counts`) and how
  its preview looks (a thread as posts, plain text in the platform's column width, Markdown
  rendered);
- how the offline composer makes it shorter when a creator asks (``shorter``: composer
  parameters) and how a passage is put first (:meth:`FormatSpec.lead_with`);
- its own QA checks beyond the common ones, and the judge's measure of its length.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationInfo, model_validator

from pipeline.models import Draft, QACheck
from pipeline.text import number_posts, numbering_width, strip_numbering, trim_at_sentence

if TYPE_CHECKING:  # options name formats; a format takes them only as a parameter
    from pipeline.extractive.material import Material
    from pipeline.options import JobOptions
    from pipeline.prompts import Prompt

__all__ = ["FormatSpec", "Limits", "Export", "Choice", "Count", "DraftAnswer", "Measure", "Length"]


@dataclass(frozen=True)
class Limits:
    """Hard limits of the platform: a draft over them cannot be posted as it is."""

    per_post: int | None = None  # characters of one post, its number included
    total: int | None = None  # characters of the whole draft as posted
    max_posts: int = 25  # posts in a thread


@dataclass(frozen=True)
class Count:
    """Characters of one part of a draft (a post, or the whole) as the platform counts them,
    against the platform's limit for it (None: no limit)."""

    part: str  # "Post 3" or "Total"
    chars: int
    limit: int | None = None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.chars > self.limit


@dataclass(frozen=True)
class Choice:
    """Something a creator may choose about an export (``render`` takes it as a keyword
    argument; the bundle uses ``default``)."""

    name: str  # the keyword: "numbered"
    label: str  # "Number the posts (1/7)"
    default: bool
    help: str = ""


@dataclass(frozen=True)
class Export:
    """One file a creator takes to the platform: ``drafts/<format><suffix>`` in the bundle."""

    suffix: str  # ".txt", ".md", ".html"
    mime: str
    render: Callable[..., str]  # render(draft, **choices)
    label: str  # "plain text, ready to paste"
    choices: tuple[Choice, ...] = ()

    def make(self, draft: Draft, chosen: dict[str, bool] | None = None) -> str:
        """The file for ``draft``, with the creator's choices (the defaults where none)."""
        values = {c.name: bool((chosen or {}).get(c.name, c.default)) for c in self.choices}
        return self.render(draft, **values)


@dataclass(frozen=True)
class Measure:
    """What the judge measures a draft's length in, and the range it reads best in (a prompt
    file may override the range with ``<name>_<unit>``)."""

    unit: str  # "words" | "characters" | "posts"
    sweet_spot: tuple[int, int]


@dataclass(frozen=True)
class Length:
    """How long a draft should be for a source of a given length: ``base`` words plus
    ``per_source_word`` for each word of the transcript, within ``floor``..``ceiling``. QA flags
    a draft under ``short_share`` of that or over ``long_share`` times it."""

    base: int
    per_source_word: float
    floor: int
    ceiling: int
    short_share: float = 0.4
    long_share: float = 4.0

    def target(self, source_words: int) -> int:
        return round(min(max(self.base + self.per_source_word * source_words, self.floor), self.ceiling))

    def bounds(self, source_words: int) -> tuple[int, int]:
        """(fewest, most) words; a very short source cannot be asked for more than a fifth of
        its words."""
        target = self.target(source_words)
        return min(round(target * self.short_share), source_words // 5), round(target * self.long_share)


class DraftAnswer(BaseModel):
    """Base of every format's LLM answer: a title, a check that the call-to-action link is
    there when one was asked for, and the conversion to a :class:`Draft`."""

    title: str = Field(min_length=3, max_length=150, description="The title or subject line.")

    def full_text(self) -> str:
        raise NotImplementedError

    def to_draft(self, spec: FormatSpec, options: JobOptions) -> Draft:
        raise NotImplementedError

    @model_validator(mode="after")
    def _has_cta(self, info: ValidationInfo):
        cta = (info.context or {}).get("cta_url")
        if cta and cta.rstrip("/") not in self.full_text():
            raise ValueError(f"the call-to-action link {cta} must appear exactly as written")
        return self


Composer = Callable[["Material", "Prompt"], Draft]
Check = Callable[[Draft, Any], QACheck]


@dataclass(frozen=True)
class FormatSpec:
    name: str
    label: str
    position: int  # where it stands among the formats (pages, reports, bundles)
    answer: type[DraftAnswer]
    compose: Composer
    exports: tuple[Export, ...]
    measure: Measure
    length: Length
    default: bool = True
    limits: Limits = field(default_factory=Limits)
    threaded: bool = False  # a thread of posts, each within ``limits.per_post``
    markdown: bool = False  # the body is Markdown (headings, lists, links); else plain text
    quotes_expected: int = 1  # how many of the insight pack's top quotes the draft should carry
    checks: tuple[Check, ...] = ()  # format-specific QA checks, after the common ones
    #: Formats whose drafts cover the same ground and must not read like this one (measured by
    #: the quality benchmark as the share of this draft's sentences the other repeats).
    distinct_from: tuple[str, ...] = ()
    #: How the format's limits are put to an LLM and a person ("each post at most 280 characters").
    limits_text: str = "no length limit"
    #: The width of the platform's text column in pixels, for the editor's preview of a plain
    #: text format (None: the preview takes the room it has).
    column_px: int | None = None
    #: Composer parameters that make the offline draft shorter, for a creator who asks for a
    #: shorter one (merged over the prompt's own parameters).
    shorter: dict[str, int] = field(default_factory=dict)
    #: The material's slots the offline composer shows (``pipeline.extractive.material``), its
    #: content first: a draft asked to be more technical claims them before the others.
    slots: tuple[str, ...] = ()

    # --- names derived from the format's name ---
    @property
    def task(self) -> str:
        return f"draft:{self.name}"

    @property
    def prompt_name(self) -> str:
        return f"draft_{self.name}"

    @property
    def local_prompt_name(self) -> str:
        return f"local_draft_{self.name}"

    # --- threads ---
    @property
    def post_room(self) -> int | None:
        """Characters a post's text may take before its ``N/N`` number is added."""
        if self.limits.per_post is None:
            return None
        return self.limits.per_post - numbering_width(self.limits.max_posts)

    def posts_of(self, draft: Draft) -> list[str]:
        """A thread's posts (for a body format: its paragraphs)."""
        if draft.posts:
            return list(draft.posts)
        return [p.strip() for p in draft.body.split("\n\n") if p.strip()]

    def with_posts(self, draft: Draft, texts: list[str]) -> Draft:
        """The draft with these post texts, numbered from scratch."""
        posts = number_posts([strip_numbering(t) for t in texts])
        return draft.model_copy(update={"posts": posts, "body": "\n\n".join(posts)})

    # --- editing: what the editor shows, and the draft it reads back ---
    def editor_text(self, draft: Draft) -> str:
        if self.threaded and draft.posts:
            return "\n---\n".join(draft.posts)
        return draft.body

    def editor_hint(self) -> str:
        return " (posts separated by lines of ---)" if self.threaded else ""

    def from_editor(self, title: str, text: str) -> dict:
        """The editor's text back into draft fields (``title``, ``body``, ``posts``)."""
        if not self.threaded:
            return {"title": title, "body": text, "posts": None}
        posts = [post.strip() for post in re.split(r"^\s*---\s*$", text, flags=re.MULTILINE) if post.strip()]
        return {"title": title, "body": "\n\n".join(posts), "posts": posts}

    def lead_with(self, draft: Draft, passage: str) -> Draft:
        """The draft with ``passage`` first: a thread's first post (cut at a sentence to fit),
        the first paragraph under an article's title, else the first paragraph."""
        if self.threaded:
            room = self.post_room
            first = passage if room is None else trim_at_sentence(passage, room)
            texts = [first, *(strip_numbering(p) for p in self.posts_of(draft))]
            return self.with_posts(draft, texts[: self.limits.max_posts])
        head, rest = _title_and_rest(draft.body) if self.markdown else ("", draft.body.strip())
        body = "\n\n".join(part for part in (head, passage, rest) if part)
        return draft.model_copy(update={"body": body + ("\n" if draft.body.endswith("\n") else "")})

    # --- sizes ---
    def posted_text(self, draft: Draft) -> str:
        """The text as the platform counts it (a thread: its posts; else the body)."""
        return draft.text()

    def counts(self, draft: Draft) -> list[Count]:
        """Characters per post (a thread) and in total, each against the platform's limit."""
        if not self.threaded:
            return [Count("Total", len(self.posted_text(draft)), self.limits.total)]
        posts = self.posts_of(draft)
        each = [Count(f"Post {number}", len(post), self.limits.per_post) for number, post in enumerate(posts, 1)]
        return [*each, Count("Total", sum(len(post) for post in posts), self.limits.total)]


def _title_and_rest(body: str) -> tuple[str, str]:
    """A Markdown body's ``# Title`` line (empty when it opens otherwise) and what follows it."""
    text = body.strip()
    first, _, rest = text.partition("\n")
    if first.startswith("# "):
        return first, rest.strip()
    return "", text
