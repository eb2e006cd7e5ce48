"""The rule checks: each takes a draft, its format's spec and the job's :class:`Context`, and says
whether the draft passes, how bad a failure is (``info``, ``warning``, ``risk``), and why.

Risks are the mistakes a creator cannot take back once published — a limit the platform
refuses, someone else's talk called "my video", an instruction planted in the transcript, a link
nobody supplied, markup, profanity, a misquote, a number nobody said — so they always send the
draft to an editor. Warnings are what an editor would fix in a minute. Limits, shape and length
come from the format's spec; nothing here names a format.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from pipeline.formats import FormatSpec
from pipeline.models import Draft, QACheck
from pipeline.numbers import claims_in
from pipeline.qa.context import Context, link_key
from pipeline.qa.reading import (
    HEADING,
    outside_quotes,
    phrase_pattern,
    plain_text,
    posts,
    quoted_passages,
    sentence_keys,
    without_blockquotes,
    words_of,
)
from pipeline.text import find_links, find_profanity, normalize_text, sentences, shorten, strip_numbering
from pipeline.untrusted import find_instructions
from pipeline.words import word_set

__all__ = [
    "CHECKS",
    "BANNED_PHRASES",
    "Check",
    "find_profanity",
    "banned_found",
    "empty_headings",
    "label_only",
    "soup_in",
    "bad_hashtags",
    "link_origins",
    "html_markup",
    "MIN_QUOTE_WORDS",
    "CROSS_FORMAT_SHARE",
]

Check = Callable[[Draft, FormatSpec, Context], QACheck]

#: Quoted passages shorter than this are emphasis or titles, not quotes of the speaker.
MIN_QUOTE_WORDS = 5
#: A sentence this short ("Let's go.") may repeat without being padding.
MIN_REPEATED_SENTENCE_WORDS = 5
#: The same run of REPEATED_NGRAM words this many times reads as padding.
REPEATED_NGRAM = 5
REPEATED_NGRAM_TIMES = 3
#: A draft that shares more than this share of its sentences with another draft of the job is
#: that draft again (a newsletter that is the blog post, cut).
CROSS_FORMAT_SHARE = 0.5
#: A title this long is a paragraph.
MAX_TITLE_CHARS = 150

#: Clichés that make a draft read as machine-written, with the plain wording a fix puts in their
#: place ("" removes a lead-in). Quoted transcript text is left alone: those are the speaker's words.
BANNED_PHRASES: dict[str, str] = {
    "in today's fast-paced world": "",
    "in today's digital age": "",
    "in the ever-evolving landscape of": "in",
    "game-changer": "big change",
    "game-changing": "important",
    "delve into": "look at",
    "delves into": "looks at",
    "delving into": "looking at",
    "unlock the power of": "use",
    "unleash the power of": "use",
    "take it to the next level": "improve it",
    "at the end of the day": "",
    "it's important to note that": "",
    "without further ado": "",
    "a testament to": "proof of",
    "buckle up": "",
    "let's dive in": "",
}
BANNED = [(phrase, phrase_pattern(phrase), replacement) for phrase, replacement in BANNED_PHRASES.items()]


def _check(name: str, severity: str, problem: str | None, ok: str) -> QACheck:
    """A check result: failed with ``problem`` as the reason, or passed with ``ok``."""
    return QACheck(name=name, passed=problem is None, severity=severity, reason=problem or ok)


# --- Limits and shape -----------------------------------------------------------------------


def check_platform_limits(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    limits, problems = spec.limits, []
    if spec.threaded:
        items = posts(draft)
        if limits.per_post:
            long = [f"post {i} has {len(p)}" for i, p in enumerate(items, 1) if len(p) > limits.per_post]
            if long:
                problems.append(f"{'; '.join(long)} characters ({spec.label} allows {limits.per_post} per post)")
        if len(items) > limits.max_posts:
            problems.append(f"{len(items)} posts (at most {limits.max_posts})")
    size = len(spec.posted_text(draft))
    if limits.total and size > limits.total:
        problems.append(f"{size:,} characters ({spec.label} allows {limits.total:,})")
    if not (limits.total or limits.per_post):
        return _check("platform_limits", "info", None, f"a {spec.label.lower()} has no length limit")
    ok = f"{size:,} characters, within {spec.limits_text}"
    return _check("platform_limits", "risk", "; ".join(problems) or None, ok)


def empty_headings(lines: list[str]) -> list[int]:
    """Indexes of headings followed by nothing but blank lines before a heading of the same or
    a higher level (or the end): a section a reader would find empty."""
    empty = []
    for i, line in enumerate(lines):
        heading = HEADING.match(line)
        if not heading:
            continue
        level = len(heading.group(1))
        following = next((other for other in lines[i + 1 :] if other.strip()), None)
        next_heading = HEADING.match(following) if following else None
        if following is None or (next_heading and len(next_heading.group(1)) <= level):
            empty.append(i)
    return empty


_BULLET = re.compile(r"^\s*(?:[-*\u2022\u2192]|\d+[.)])\s*")
_LABEL = re.compile(r"^[\W_]*[^.!?]{0,60}:[\W_]*$")


def label_only(text: str) -> bool:
    """A part with nothing but a label: empty, a word or two, or "Despite and Fact:"."""
    text = _BULLET.sub("", strip_numbering(text)).strip().strip("*_ ")
    words = re.findall(r"\w+", text)
    return len(words) < 2 or bool(_LABEL.match(text))


def _empty_paragraph_labels(lines: list[str]) -> list[str]:
    """Bullets with no text, and label lines ("My takeaways:") that introduce nothing."""
    found = []
    for i, line in enumerate(lines):
        if not line.strip() or HEADING.match(line):
            continue
        following = next((other for other in lines[i + 1 :] if other.strip()), None)
        introduces = following is not None and not HEADING.match(following) and not label_only(following)
        is_bullet = bool(_BULLET.match(line))
        if (is_bullet and label_only(line)) or (label_only(line) and line.rstrip().endswith(":") and not introduces):
            found.append(line.strip())
    return found


def check_empty_parts(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    if spec.threaded:
        empty = [str(i) for i, p in enumerate(posts(draft), 1) if label_only(p)]
        problem = f"post(s) {', '.join(empty)} have no text or only a label" if empty else None
        return _check("empty_parts", "warning", problem, "every post says something")
    lines = draft.body.splitlines()
    problems = []
    headings = [lines[i].lstrip("# ").strip() for i in empty_headings(lines)]
    if headings:
        problems.append(f"section(s) with a heading but no text: {', '.join(repr(h) for h in headings)}")
    labels = _empty_paragraph_labels(lines)
    if labels:
        problems.append(f"bullet(s) or line(s) with only a label: {', '.join(repr(shorten(x, 40)) for x in labels)}")
    return _check("empty_parts", "warning", "; ".join(problems) or None, "every section, bullet and line has text")


_MARKDOWN_IN_PLAIN = re.compile(r"^\s*#{1,6}\s+\S|\*\*[^*\n]+\*\*|\[[^\]\n]+\]\([^)\s]+\)", re.MULTILINE)


def check_plain_text(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    if spec.markdown:
        return _check("plain_text", "info", None, "Markdown is this format's own")
    found = _MARKDOWN_IN_PLAIN.findall(draft.text())
    problem = f"Markdown that the platform shows as symbols: {shorten(found[0].strip(), 40)!r}" if found else None
    return _check("plain_text", "warning", problem, "plain text, as the platform shows it")


# --- Titles and wording -----------------------------------------------------------------------

_BOILERPLATE_TITLE = re.compile(
    r":\s*what works\s*$|^\s*(?:untitled|overview|title|part|key (?:takeaways|lessons|insights)|my takeaways)\s*$"
    r"|^\s*(?:a practical look at|everything you need to know about)\b",
    re.IGNORECASE,
)
_FUNCTION_WORDS = word_set(
    """
    about above across after against along although among around as at because before behind below beneath beside
    besides between beyond but by despite down during except for from however if in inside into like near of off on
    onto or out outside over past per since so than though through throughout till to toward towards under unless
    unlike until up upon versus via when where whether while with within without yet also very just only even still
    the a an this that these those it its
    """
)
_LIST_SPLIT = re.compile(r",\s*|\s+(?:and|&|or)\s+|\s*;\s*")


def soup_in(text: str, *, title: bool = False) -> bool:
    """Whether ``text`` is keywords glued with commas and "and" ("noted and knowledge, despite and
    fact, man and learned"): four or more bare words or pairs, one of them a function word ("despite"),
    or seven or more of them. A title of bare words, one a function word ("Despite and Fact"), too."""
    items = [i.strip(" .:!?\"'") for i in _LIST_SPLIT.split(text) if i.strip(" .:!?\"'")]
    short = [i for i in items if 1 <= len(i.split()) <= 2]
    glued = any(i.lower() in _FUNCTION_WORDS for i in short)
    if title:
        return len(items) >= 2 and len(short) == len(items) and glued
    return len(short) >= 4 and (glued or len(short) >= 7)


def check_title(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    title = draft.title.strip()
    problem = None
    if not title:
        problem = "the draft has no title"
    elif len(title) > MAX_TITLE_CHARS:
        problem = f"the title runs to {len(title)} characters"
    elif _BOILERPLATE_TITLE.search(title):
        problem = f'the title is boilerplate, not about this talk: "{shorten(title, 60)}"'
    elif soup_in(title, title=True) or title.rstrip().endswith(":"):
        problem = f'the title is keywords, not a title: "{shorten(title, 60)}"'
    return _check("title", "warning", problem, f'titled "{shorten(title, 60)}"')


def check_keyword_soup(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    glued = [s.strip() for line in plain_text(draft).splitlines() for s in sentences(line) if soup_in(s)]
    problem = f'keywords glued into a sentence: "{shorten(glued[0])}"' if glued else None
    return _check("keyword_soup", "warning", problem, "every sentence is a sentence")


def _repeated_sentences(text: str) -> list[str]:
    seen, repeated = set(), []
    for line in text.splitlines():
        for sentence in sentences(line):
            key = normalize_text(sentence)
            if len(key.split()) < MIN_REPEATED_SENTENCE_WORDS:
                continue
            if key in seen:
                repeated.append(sentence.strip())
            seen.add(key)
    return repeated


def _repeated_ngrams(text: str) -> list[str]:
    words = normalize_text(text).split()
    grams = Counter(" ".join(words[i : i + REPEATED_NGRAM]) for i in range(len(words) - REPEATED_NGRAM + 1))
    return [gram for gram, count in grams.most_common() if count >= REPEATED_NGRAM_TIMES]


def check_repetition(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    text = plain_text(draft)
    repeated, grams = _repeated_sentences(text), _repeated_ngrams(text)
    problem = None
    if repeated:
        problem = f'a sentence appears more than once: "{shorten(repeated[0])}"'
    elif grams:
        problem = f'the words "{grams[0]}" repeat {REPEATED_NGRAM_TIMES} or more times'
    return _check("repetition", "warning", problem, "no repeated sentences or phrases")


_LABELS = re.compile(r"\*\*[^*\n]+\*\*|^\s*(?:[-*\u2022\u2192]\s*)?[^:.!?\n\u201c\"]{1,80}:\s")


def _own_keys(draft: Draft, ctx: Context) -> set[str]:
    """A draft's own sentences: no quotes of the speaker, no call to action or sign-off (those
    repeat across a job's drafts on purpose)."""
    fixed = [text for text in (ctx.cta, ctx.voice.sign_off, ctx.voice.default_cta) if text]
    kept = [
        _LABELS.sub(" ", line)  # a theme's name heads its lines in several drafts, as it should
        for line in without_blockquotes(draft).text().splitlines()
        if not find_links(line) and not any(text.lower() in line.lower() for text in fixed)
    ]
    return sentence_keys(draft.model_copy(update={"body": "\n".join(kept), "posts": []}), prose_only=True)


def check_cross_format(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    """A draft that is another draft of the job again: most of its own sentences are in it."""
    mine = _own_keys(draft, ctx)
    worst = None
    for name, other in ctx.siblings.items():
        if name == draft.format or not mine:
            continue
        share = len(mine & _own_keys(other, ctx)) / len(mine)
        if share > CROSS_FORMAT_SHARE and (worst is None or share > worst[1]):
            worst = (other, share)
    problem = None
    if worst is not None:
        problem = f"{worst[1]:.0%} of its sentences are also in the {_label(worst[0]).lower()}: the two read as one"
    return _check("cross_format_repetition", "warning", problem, "reads as its own draft, not a copy of another")


def _label(draft: Draft) -> str:
    from pipeline import formats

    return formats.label(draft.format)


_HASHTAG = re.compile(r"(?<![\w/&#])#([A-Za-z][A-Za-z0-9_]*)")
_CAMEL_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _hashtag_problem(tag: str) -> str | None:
    parts = _CAMEL_PART.findall(tag)
    if len(tag) > 25 or len(parts) > 3:
        return "too long to read"
    if any(len(p) == 1 and not p.isdigit() for p in parts):
        return "a letter alone is not a word"
    if any(p.lower() in _FUNCTION_WORDS for p in parts) or parts[-1].lower().endswith("ly"):
        return "not a subject"
    return None


def bad_hashtags(text: str) -> list[str]:
    return [f"#{tag} ({why})" for tag in _HASHTAG.findall(text) if (why := _hashtag_problem(tag))]


def check_hashtags(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    tags = ["#" + t for t in _HASHTAG.findall(draft.text())]
    voice, problems = ctx.voice, []
    bad = bad_hashtags(draft.text())
    if bad:
        problems.append(f"hashtags that are not words: {', '.join(bad)}")
    if tags and voice.hashtag_policy == "none":
        problems.append(f"the workspace uses no hashtags, and this has {len(tags)}")
    elif voice.hashtag_policy == "fixed" and (extra := [t for t in tags if t not in voice.hashtags]):
        problems.append(f"hashtags outside the workspace's list: {', '.join(extra)}")
    if len(tags) > voice.max_hashtags and voice.hashtag_policy != "none":
        problems.append(f"{len(tags)} hashtags (the workspace allows {voice.max_hashtags})")
    return _check("hashtags", "warning", "; ".join(problems) or None, "hashtags are words, within the policy")


_OWNERSHIP = re.compile(
    r"\b(?:my|our)\s+(?:latest\s+|new\s+|recent\s+|last\s+|own\s+)?"
    r"(?:video|talk|speech|keynote|episode|podcast|presentation|lecture|address|recording|session)\b"
    r"|\bI\s+(?:said|shared|talked\s+about|spoke\s+about|covered|explained|argued)\b|\bin\s+this\s+video,?\s+I\b",
    re.IGNORECASE,
)


def check_attribution(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    """Someone else's talk: never called the creator's, and its speaker named."""
    if ctx.speaker is None:
        return _check("attribution", "risk", None, "the creator's own talk")
    claimed = _OWNERSHIP.findall(outside_quotes(draft.text()))
    if claimed:
        return _check(
            "attribution",
            "risk",
            f"the talk is {ctx.speaker}'s, but the draft calls it the creator's (\"{claimed[0]}\")",
            "",
        )
    surname = ctx.speaker.split()[-1].lower()
    if surname not in draft.text().lower():
        return _check("attribution", "warning", f"{ctx.speaker} is never named; their words read as the creator's", "")
    return _check("attribution", "risk", None, f"attributed to {ctx.speaker}")


def check_length(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    low, high = spec.length.bounds(ctx.source_words)
    words = words_of(draft)
    problem = None
    if words < low:
        problem = f"{words} words is thin for a {ctx.source_words:,}-word talk (expected at least {low})"
    elif words > high:
        problem = f"{words} words is padding for a {ctx.source_words:,}-word talk (expected at most {high})"
    return _check("length", "warning", problem, f"{words} words for a {ctx.source_words:,}-word talk")


def _carries(text_key: str, quote: str) -> bool:
    words = normalize_text(quote).split()
    head = " ".join(words[:8])
    return bool(words) and (" ".join(words) in text_key or (len(words) > 8 and head in text_key))


def check_quote_coverage(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    needed = min(spec.quotes_expected, len(ctx.top_quotes))
    if not needed:
        return _check("quote_coverage", "info", None, "this format carries no quotes")
    text_key = normalize_text(plain_text(draft))  # a title that opens with a quote is not the quote
    carried = sum(1 for quote in ctx.top_quotes if _carries(text_key, quote))
    problem = None
    if carried < needed:
        problem = f"carries {carried} of the talk's top {len(ctx.top_quotes)} quotes (expected {needed})"
    return _check("quote_coverage", "warning", problem, f"carries {carried} of the talk's top quotes")


# --- Faithfulness ---------------------------------------------------------------------------


def _ungrounded_quotes(text: str, ctx: Context) -> list[str]:
    missing = []
    for passage in quoted_passages(text):
        # An ellipsis marks an abridged quote: each kept piece must still be the speaker's words.
        pieces = [p for p in re.split(r"\.\.\.|\u2026", passage) if normalize_text(p)]
        if len(normalize_text(passage).split()) < MIN_QUOTE_WORDS:
            continue
        if any(not ctx.said(piece) for piece in pieces):
            missing.append(passage)
    return missing


def check_quotes_grounded(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    missing = _ungrounded_quotes(draft.text(), ctx)
    problem = None
    if missing:
        problem = f'{len(missing)} quote(s) are not in the transcript word for word, e.g. "{shorten(missing[0])}"'
    return _check("quotes_grounded", "risk", problem, "every quote appears in the transcript")


def check_unverifiable_numbers(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    claims = claims_in(plain_text(draft))
    unknown = [c.shown for c in claims if c.value not in ctx.transcript_numbers]
    unsourced = [c.shown for c in claims if c.is_percentage and c.value in ctx.unsourced_statistics]
    problems = []
    if unknown:
        problems.append(f"numbers that the transcript never mentions: {', '.join(dict.fromkeys(unknown))}")
    if unsourced:
        problems.append(f"statistics the speaker gives without a source: {', '.join(dict.fromkeys(unsourced))}")
    problem = "; ".join(problems) + " \u2014 check them before publishing" if problems else None
    return _check("unverifiable_numbers", "risk", problem, "every number appears in the transcript with its source")


# --- Safety -----------------------------------------------------------------------------------


def banned_found(text: str) -> list[str]:
    outside = outside_quotes(text)
    return [phrase for phrase, pattern, _ in BANNED if pattern.search(outside)]


def check_banned_phrases(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    found = banned_found(draft.text())
    problem = f"uses clich\u00e9s: {', '.join(repr(p) for p in found)}" if found else None
    return _check("banned_phrases", "warning", problem, "no clich\u00e9s from the banned list")


def check_avoid_phrases(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    outside = outside_quotes(draft.text())
    found = [p for p in ctx.voice.avoid_phrases if phrase_pattern(p).search(outside)]
    problem = f"uses words the workspace avoids: {', '.join(repr(p) for p in found)}" if found else None
    return _check("avoid_phrases", "warning", problem, "none of the workspace's avoided words")


def _masked(word: str) -> str:
    return word[0] + "*" * (len(word) - 2) + word[-1] if len(word) > 2 else word


def check_profanity(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    words = sorted({w.lower() for w in find_profanity(draft.text())})
    problem = f"contains profanity ({', '.join(_masked(w) for w in words)})" if words else None
    return _check("profanity", "risk", problem, "no profanity")


def check_leaked_instructions(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    found = find_instructions(draft.text())
    problem = None
    if found:
        problem = (
            f'contains text that reads like an instruction to an AI ("{shorten(found[0], 60)}"); '
            "it probably came from the transcript and should not be published"
        )
    return _check("leaked_instructions", "risk", problem, "no instruction-like text")


_MARKDOWN_LINK = re.compile(r"\[[^\]\n]{1,200}\]\(([^)\s]{1,500})\)")


def link_origins(text: str, ctx: Context) -> dict[str, str]:
    """Every link in ``text``: ``creator`` (the call to action, the voice profile), ``transcript``
    (the speaker said it) or ``unknown`` (nobody supplied it)."""
    found = {}
    for link in [*_MARKDOWN_LINK.findall(text), *find_links(_MARKDOWN_LINK.sub(" ", text))]:
        key = link_key(link)
        if any(key == c or key.startswith(c + "/") or key.startswith(c + "?") for c in ctx.creator_links):
            found[link] = "creator"
        elif key in ctx.transcript_links:
            found[link] = "transcript"
        else:
            found[link] = "unknown"
    return found


def check_links(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    """A draft keeps only links the creator supplied; one the speaker said (a promotion, or an
    injected one) goes to an editor, listed; one nobody supplied is a risk."""
    origins = link_origins(draft.text(), ctx)
    said = [link for link, origin in origins.items() if origin == "transcript"]
    unknown = [link for link, origin in origins.items() if origin == "unknown"]
    problems = []
    if said:
        problems.append(f"links from the transcript, for an editor to approve: {', '.join(said)}")
    if unknown:
        problems.append(f"links nobody supplied: {', '.join(unknown)}")
    ok = f"links: {', '.join(origins)} (supplied by the creator)" if origins else "no links besides the creator's"
    return _check("links", "risk", "; ".join(problems) or None, ok)


_HTML = re.compile(
    r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>|&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);|javascript:", re.I
)


def html_markup(text: str) -> list[str]:
    return _HTML.findall(text)


def check_markup(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    found = html_markup(draft.text())
    problem = f"HTML or script in the text ({shorten(found[0], 40)!r})" if found else None
    return _check("markup", "risk", problem, "no HTML or script")


def check_cta_present(draft: Draft, spec: FormatSpec, ctx: Context) -> QACheck:
    if not ctx.cta:
        return _check("cta_present", "info", None, "no call to action was asked for")
    present = ctx.cta.rstrip("/").lower() in draft.text().lower()
    problem = None if present else f"the call to action ({shorten(ctx.cta, 60)}) is missing"
    return _check("cta_present", "warning", problem, "the call to action is included")


CHECKS: list[Check] = [
    check_platform_limits,
    check_empty_parts,
    check_plain_text,
    check_title,
    check_keyword_soup,
    check_repetition,
    check_cross_format,
    check_hashtags,
    check_attribution,
    check_length,
    check_quote_coverage,
    check_quotes_grounded,
    check_unverifiable_numbers,
    check_banned_phrases,
    check_avoid_phrases,
    check_profanity,
    check_leaked_instructions,
    check_links,
    check_markup,
    check_cta_present,
]
