"""LinkedIn post: plain text within 3,000 characters — the talk's best line as the hook, its
ideas as short arrowed lines under the theme names, the talk's closing line, the call to action,
the sign-off and a few hashtags made of real words."""

from __future__ import annotations

from pydantic import Field

from pipeline.extractive.material import Material
from pipeline.formats.base import FormatSpec, Length, Limits, Measure
from pipeline.formats.shapes import PlainPostAnswer, blocks, plain_export, titled
from pipeline.models import Draft
from pipeline.prompts import Prompt
from pipeline.text import trim_at_sentence

LIMITS = Limits(total=3000)


class LinkedInAnswer(PlainPostAnswer):
    """A LinkedIn post."""

    body: str = Field(min_length=200, max_length=LIMITS.total, description="The post as plain text.")


def _hook(material: Material) -> str | None:
    quote = material.top_quote()
    return material.say(quote, attribute=True) if quote else None


def _takeaways(material: Material, prompt: Prompt) -> list[str]:
    template = prompt.template.get("takeaway", "")
    template = template if "{line}" in template else "\u2192 {title}: {line}"  # versions before v3 say {point}
    takeaways = []
    for theme in material.themes[: prompt.params.get("takeaways", 5)]:
        line = material.theme_line(theme, "takeaway", "short", "quote", "lead")
        if line is not None:
            takeaways.append(titled(theme.title, material.say(line), template))
    return takeaways


def _heading(material: Material, prompt: Prompt, count: int) -> str | None:
    if not count:
        return None
    part = "takeaways_own" if material.own_talk else "takeaways_other"
    if part not in prompt.template:
        return None
    return prompt.render(part, count=count, title=material.title, speaker=material.speaker or "") or None


def _quotes(material: Material, prompt: Prompt) -> str | None:
    """Further quotes after the takeaways, when the prompt asks for them."""
    count = prompt.params.get("quotes", 0)
    lines = [material.say(q, attribute=not material.own_talk) for q in material.quotes[1 : 1 + count]]
    return "\n\n".join(f"\u201c{line}\u201d" if material.own_talk else line for line in lines) or None


def _fit(parts: list[str | None], takeaways: list[str], limit: int) -> str:
    """Drop takeaways from the end until the post fits; trim at a sentence as a last resort."""
    while True:
        body = blocks(*parts[:2], "\n".join(takeaways), *parts[2:])
        if len(body) <= limit or not takeaways:
            return body if len(body) <= limit else trim_at_sentence(body, limit)
        takeaways = takeaways[:-1]


def compose(material: Material, prompt: Prompt) -> Draft:
    takeaways = _takeaways(material, prompt)
    tags = " ".join(material.hashtags(prompt.params.get("hashtags", 3)))
    closing = material.say(material.closing) if material.closing else None
    parts = [
        _hook(material),
        _heading(material, prompt, len(takeaways)),
        _quotes(material, prompt),
        closing,
        material.cta_line(prompt.template),
        material.sign_off(),
        tags,
    ]
    return Draft(format=SPEC.name, title=material.title, body=_fit(parts, takeaways, LIMITS.total))


SPEC = FormatSpec(
    name="linkedin",
    label="LinkedIn post",
    position=40,
    answer=LinkedInAnswer,
    compose=compose,
    exports=(plain_export,),
    measure=Measure("characters", (700, 2200)),
    length=Length(base=120, per_source_word=0.005, floor=120, ceiling=300),
    limits=LIMITS,
    quotes_expected=1,
    limits_text=f"at most {LIMITS.total:,} characters",
    column_px=552,  # the feed's post column on a laptop
    shorter={"takeaways": 2, "quotes": 0},
    slots=("takeaway", "short", "closing"),
)
