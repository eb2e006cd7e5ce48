"""Auto-fixes for what QA can mend without changing what the draft says: clichés, repeated
sentences, empty parts, a missing title, links nobody supplied, HTML, and platform limits (a long
post split in two at a sentence, a long post trimmed at one). Each fix is recorded with the
text before and after. Fixes run in the pipeline, never on an editor's saved text: an edit is
checked and scored, and the editor decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pipeline import formats
from pipeline.formats import FormatSpec
from pipeline.models import Draft, QAFix
from pipeline.qa import checks as c
from pipeline.qa.context import Context
from pipeline.qa.reading import HEADING, QUOTED_SPAN
from pipeline.text import normalize_text, sentences, shorten, split_to_fit, strip_numbering, trim_at_sentence

__all__ = ["auto_fix", "FIXES"]

Fix = Callable[[Draft, FormatSpec, Context], tuple[Draft, list[QAFix]]]


def _with_body(draft: Draft, body: str) -> Draft:
    return draft.model_copy(update={"body": re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"})


def _map_text(draft: Draft, spec: FormatSpec, change: Callable[[str], str]) -> Draft:
    """The draft with ``change`` applied to each post, or to its body."""
    if spec.threaded and draft.posts:
        return spec.with_posts(draft, [change(strip_numbering(p)) for p in draft.posts])
    return _with_body(draft, change(draft.body))


def _fix(check: str, description: str, before: Draft, after: Draft) -> tuple[Draft, list[QAFix]]:
    if after.text().strip() == before.text().strip() and after.title == before.title:
        return before, []
    return after, [QAFix(check=check, description=description, before=before.text(), after=after.text())]


# --- Wording ----------------------------------------------------------------------------------


def _replace_outside_quotes(text: str, pattern: re.Pattern, replacement) -> str:
    pieces, last = [], 0
    for span in QUOTED_SPAN.finditer(text):
        pieces.append(pattern.sub(replacement, text[last : span.start()]))
        pieces.append(span.group(0))
        last = span.end()
    pieces.append(pattern.sub(replacement, text[last:]))
    return "".join(pieces)


def _drop_lead_in(match: re.Match) -> str:
    """Remove a lead-in phrase; when it opened a sentence, the next word now opens it."""
    before = match.string[: match.start()].rstrip(" \t")
    opens_sentence = not before or before[-1] in ".!?\n>#-*"
    following = match.group("next") or ""
    return following.upper() if opens_sentence else " " + following


def _remove_banned(text: str) -> str:
    for _phrase, pattern, replacement in c.BANNED:
        if replacement:
            text = _replace_outside_quotes(text, pattern, replacement)
        else:  # a lead-in: take its trailing comma with it
            lead_in = re.compile(r"(?:,[ \t]*)?" + pattern.pattern + r",?[ \t]*(?P<next>\w)?", re.IGNORECASE)
            text = _replace_outside_quotes(text, lead_in, _drop_lead_in)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r" +([,.;:!?])", r"\1", text)


def fix_banned_phrases(draft: Draft, spec: FormatSpec, ctx: Context) -> tuple[Draft, list[QAFix]]:
    found = c.banned_found(draft.text())
    description = f"removed or replaced clich\u00e9s: {', '.join(repr(p) for p in found)}"
    return _fix("banned_phrases", description, draft, _map_text(draft, spec, _remove_banned))


def _drop_seen_sentences(line: str, seen: set[str]) -> str:
    """``line`` without the sentences already in ``seen``; adds the new ones to ``seen``."""
    prefix = re.match(r"^\s*(?:[>\-*\u2022\u2192]\s*)?", line).group(0)
    kept = []
    for sentence in sentences(line[len(prefix) :]):
        key = normalize_text(sentence)
        if len(key.split()) >= c.MIN_REPEATED_SENTENCE_WORDS and key in seen:
            continue
        seen.add(key)
        kept.append(sentence)
    text = "".join(kept).strip()
    return prefix + text if text else ""


def fix_repetition(draft: Draft, spec: FormatSpec, ctx: Context) -> tuple[Draft, list[QAFix]]:
    seen: set[str] = set()
    if spec.threaded and draft.posts:
        texts = [_drop_seen_sentences(strip_numbering(p), seen) for p in draft.posts]
        fixed = spec.with_posts(draft, [t for t in texts if t])
    else:
        lines = [
            line if HEADING.match(line) or not line.strip() else _drop_seen_sentences(line, seen) or None
            for line in draft.body.splitlines()
        ]
        fixed = _with_body(draft, "\n".join(line for line in lines if line is not None))
    return _fix("repetition", "dropped repeated sentences", draft, fixed)


def fix_empty_parts(draft: Draft, spec: FormatSpec, ctx: Context) -> tuple[Draft, list[QAFix]]:
    if spec.threaded and draft.posts:
        fixed = spec.with_posts(draft, [p for p in draft.posts if not c.label_only(p)])
    else:
        lines = draft.body.splitlines()
        while empty := set(c.empty_headings(lines)):  # dropping a subsection can empty its parent
            lines = [line for i, line in enumerate(lines) if i not in empty]
        bullets = re.compile(r"^\s*(?:[-*\u2022\u2192]|\d+[.)])\s*")
        lines = [line for line in lines if not (bullets.match(line) and c.label_only(line))]
        fixed = _with_body(draft, "\n".join(lines))
    return _fix("empty_parts", "dropped empty posts, sections and bullets", draft, fixed)


def fix_title(draft: Draft, spec: FormatSpec, ctx: Context) -> tuple[Draft, list[QAFix]]:
    if draft.title.strip():
        return draft, []  # a poor title is the editor's to rewrite; only a missing one is filled in
    lines = draft.text().splitlines()
    first_heading = next((line for line in lines if HEADING.match(line)), "")
    first_line = next((line for line in lines if line.strip()), "")
    title = shorten(strip_numbering(first_heading.lstrip("# ") or first_line), 100)
    if not title:
        return draft, []
    fix = QAFix(check="title", description="used the first heading or line as the title", before="", after=title)
    return draft.model_copy(update={"title": title}), [fix]


# --- Links and markup -------------------------------------------------------------------------


def fix_links(draft: Draft, spec: FormatSpec, ctx: Context) -> tuple[Draft, list[QAFix]]:
    """Remove links nobody supplied (a Markdown link keeps its words); links the speaker said
    stay for the editor to judge."""
    unknown = [link for link, origin in c.link_origins(draft.text(), ctx).items() if origin == "unknown"]

    def remove(text: str) -> str:
        for link in unknown:
            text = re.sub(r"\[([^\]\n]{1,200})\]\(" + re.escape(link) + r"\)", r"\1", text)
            text = text.replace(link, "")
        return re.sub(r"[ \t]{2,}", " ", text)

    return _fix("links", f"removed links nobody supplied: {', '.join(unknown)}", draft, _map_text(draft, spec, remove))


def fix_markup(draft: Draft, spec: FormatSpec, ctx: Context) -> tuple[Draft, list[QAFix]]:
    def strip(text: str) -> str:
        text = re.sub(r"<(script|style)\b[^<>]*>.*?</\1\s*>", "", text, flags=re.IGNORECASE | re.DOTALL)
        text = re.sub(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>", "", text)
        text = re.sub(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);", "", text)
        return re.sub(r"javascript:", "", text, flags=re.IGNORECASE)

    return _fix("markup", "removed HTML and script", draft, _map_text(draft, spec, strip))


# --- Limits -----------------------------------------------------------------------------------


def _split_long_posts(draft: Draft, spec: FormatSpec) -> tuple[Draft, list[QAFix]]:
    texts, fixes = [], []
    for i, post in enumerate(spec.posts_of(draft), 1):
        if len(post) <= spec.limits.per_post:
            texts.append(strip_numbering(post))
            continue
        pieces = split_to_fit(strip_numbering(post), spec.post_room)
        texts.extend(pieces)
        description = f"split post {i} ({len(post)} characters) into {len(pieces)} posts and renumbered the thread"
        fixes.append(QAFix(check="platform_limits", description=description, before=post, after="\n\n".join(pieces)))
    return spec.with_posts(draft, texts), fixes


def _closing_paragraphs(paragraphs: list[str], ctx: Context) -> int:
    """How many trailing paragraphs are the sign-off (CTA link, hashtags) that a trim keeps."""
    count = 0
    for paragraph in reversed(paragraphs[-2:]):
        is_hashtags = all(word.startswith("#") for word in paragraph.split())
        has_cta = bool(ctx.cta) and ctx.cta in paragraph
        if not (is_hashtags or has_cta) or len(paragraph) > 400:
            break
        count += 1
    return count


def _trim_body(draft: Draft, spec: FormatSpec, ctx: Context) -> tuple[Draft, list[QAFix]]:
    paragraphs = [p for p in draft.body.strip().split("\n\n") if p.strip()]
    keep = _closing_paragraphs(paragraphs, ctx)
    head, tail = paragraphs[: len(paragraphs) - keep], paragraphs[len(paragraphs) - keep :]
    room = spec.limits.total - sum(len(p) + 2 for p in tail) - 1
    trimmed = trim_at_sentence("\n\n".join(head), room).rstrip()
    body = "\n\n".join([trimmed, *tail]).strip()
    fix = QAFix(
        check="platform_limits",
        description=f"trimmed the text from {len(draft.body)} to {len(body)} characters at a sentence boundary",
        before=draft.body,
        after=body,
    )
    return draft.model_copy(update={"body": body}), [fix]


def fix_platform_limits(draft: Draft, spec: FormatSpec, ctx: Context) -> tuple[Draft, list[QAFix]]:
    fixes: list[QAFix] = []
    if spec.threaded and spec.limits.per_post:
        draft, fixes = _split_long_posts(draft, spec)
    if spec.limits.total and len(spec.posted_text(draft)) > spec.limits.total and not spec.threaded:
        draft, trimmed = _trim_body(draft, spec, ctx)
        fixes += trimmed
    return draft, fixes


#: Fixes in the order they run: removals first, so that the length fix sees the final text.
FIXES: list[tuple[c.Check, Fix]] = [
    (c.check_markup, fix_markup),
    (c.check_links, fix_links),
    (c.check_banned_phrases, fix_banned_phrases),
    (c.check_repetition, fix_repetition),
    (c.check_empty_parts, fix_empty_parts),
    (c.check_title, fix_title),
    (c.check_platform_limits, fix_platform_limits),
]


def auto_fix(draft: Draft, ctx: Context) -> tuple[Draft, list[QAFix]]:
    spec = formats.get(draft.format)
    fixes: list[QAFix] = []
    for check, fix in FIXES:
        if not check(draft, spec, ctx).passed:
            draft, applied = fix(draft, spec, ctx)
            fixes.extend(applied)
    return draft, fixes
