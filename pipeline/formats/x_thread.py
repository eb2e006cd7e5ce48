"""X thread: numbered posts of at most 280 characters each — the talk's best line first, one
short line per theme, a quote or two, and the call to action (or the talk's closing line) last.
Exported as the posts alone, ready to paste one by one: no headings, timestamps or separators.
"""

from __future__ import annotations

import re

from pipeline.extractive.material import Line, Material
from pipeline.formats.base import FormatSpec, Length, Limits, Measure
from pipeline.formats.shapes import thread_answer, thread_export
from pipeline.models import Draft, QACheck
from pipeline.prompts import Prompt
from pipeline.text import numbering_width, strip_numbering, trim_at_sentence

LIMITS = Limits(per_post=280, max_posts=25)
_ROOM = LIMITS.per_post - numbering_width(LIMITS.max_posts)  # the "NN/NN " number is added after


def _post(material: Material, line: Line, *, first: bool = False) -> str | None:
    """A line as a post, or None when it cannot fit whole (a quotation is never cut)."""
    text = material.say(line, attribute=first)
    if len(text) <= _ROOM:
        return text
    return trim_at_sentence(text, _ROOM) if material.own_talk and not first else None


def _hook(material: Material) -> str | None:
    for quote in material.quotes[:3]:
        post = _post(material, quote, first=True)
        if post:
            return post
    return None


def compose(material: Material, prompt: Prompt) -> Draft:
    params = prompt.params
    lines = [line for theme in material.themes if (line := material.theme_line(theme, "short", "quote"))]
    lines = lines[: params.get("max_theme_posts", len(lines))]
    lines += material.quotes[1 : 1 + params.get("max_quote_posts", 2)]
    posts = [_hook(material), *(_post(material, line) for line in lines)]
    closing = material.cta_line(prompt.template)
    posts.append(trim_at_sentence(closing, _ROOM) if closing else _closing_post(material))
    texts = list(dict.fromkeys(p for p in posts if p))
    draft = Draft(format=SPEC.name, title=material.title, body="")
    return SPEC.with_posts(draft, texts[: LIMITS.max_posts])


def _closing_post(material: Material) -> str | None:
    return _post(material, material.closing) if material.closing else None


_HEADING_OR_RULE = re.compile(r"^\s*(?:#{1,6}\s|-{3,}\s*$)", re.MULTILINE)
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")


def check_posts_paste_clean(draft: Draft, context) -> QACheck:
    """A post is pasted as it is: Markdown headings, rules and video timestamps mean nothing on X."""
    bad = [
        str(number)
        for number, post in enumerate(SPEC.posts_of(draft), 1)
        if _HEADING_OR_RULE.search(strip_numbering(post)) or _CLOCK.search(post)
    ]
    problem = f"post(s) {', '.join(bad)} hold a heading, a rule or a video timestamp" if bad else None
    return QACheck(
        name="paste_ready", passed=problem is None, severity="warning", reason=problem or "every post pastes as it is"
    )


SPEC = FormatSpec(
    name="x_thread",
    label="X thread",
    position=30,
    answer=thread_answer("ThreadAnswer", _ROOM),
    compose=compose,
    exports=(thread_export(LIMITS),),
    measure=Measure("posts", (5, 12)),
    length=Length(base=110, per_source_word=0.01, floor=110, ceiling=400),
    limits=LIMITS,
    threaded=True,
    quotes_expected=1,
    checks=(check_posts_paste_clean,),
    shorter={"max_theme_posts": 2, "max_quote_posts": 0},
    slots=("short", "closing"),
    limits_text=f"each post at most {LIMITS.per_post} characters, numbering included",
)
