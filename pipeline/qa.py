"""Provider-independent QA: named rule checks, auto-fixes, a score, and the report.

A review runs the checks, applies the fix of every fixable check that failed, runs the checks
again and scores the fixed draft. A draft goes to an editor when that score is below the
threshold or when any *risk* check fails: risks (profanity, instructions leaked from the
transcript, numbers nobody said, misquotes) are the mistakes a creator cannot take back once
published, so no score can outweigh them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline import defaults
from pipeline.models import (
    LINKEDIN_LIMIT,
    X_POST_LIMIT,
    Draft,
    DraftFormat,
    DraftReview,
    JobOptions,
    JudgeScore,
    QACheck,
    QAFix,
    QAReport,
    Transcript,
)

__all__ = [
    "review_draft",
    "needs_review",
    "build_report",
    "run_checks",
    "rule_score",
    "BANNED_PHRASES",
    "SEVERITY_PENALTY",
    "normalize_text",
    "number_posts",
    "strip_numbering",
    "trim_at_sentence",
    "find_profanity",
    "find_instructions",
]

Judge = Sequence[JudgeScore] | Callable[[Draft], Sequence[JudgeScore]]

#: Points a failed check costs, by severity. With the default threshold (70) a draft with one
#: warning left after auto-fix passes; two send it to an editor. Risks go to an editor anyway.
SEVERITY_PENALTY = {"info": 5, "warning": 20, "risk": 30}
#: Share of the final score that comes from the judge when one scored the draft.
JUDGE_WEIGHT = 0.5
#: A judge score this low on one of these criteria is a risk, like a failed risk check: a draft
#: the judge finds unfaithful to the transcript or unsafe to publish goes to an editor.
JUDGE_RISK_CRITERIA = ("accuracy", "safety")
JUDGE_RISK_SCORE = 3
#: Quoted passages shorter than this are emphasis or titles, not quotes of the speaker.
MIN_QUOTE_WORDS = 5
#: A sentence this short ("Let's go.") may repeat without being padding.
MIN_REPEATED_SENTENCE_WORDS = 5
#: The same run of REPEATED_NGRAM words this many times reads as padding.
REPEATED_NGRAM = 5
REPEATED_NGRAM_TIMES = 3
#: Bare whole numbers up to this are list counts ("3 ideas"), not claims worth verifying.
SMALL_NUMBER = 10

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

_PROFANITY = re.compile(
    r"\b(?:(?:mother)?fuck\w*|shit\w*|bullshit\w*|bitch\w*|asshole\w*|bastard\w*|cunt\w*|dickhead\w*|wank\w*|twat\w*"
    r"|damn\w*|goddamn\w*|crap|crappy|piss\w*)\b",
    re.IGNORECASE,
)

_INSTRUCTIONS = re.compile(
    r"\b(?:ignore|forget|disregard)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|earlier|preceding)"
    r"(?:\s+(?:instructions?|prompts?|rules|directions|messages?))?"
    r"|\bdisregard\s+(?:all\s+|everything\s+)?(?:the\s+)?above\b"
    r"|\bsystem\s+prompt\b"
    r"|\bas\s+an?\s+(?:ai|large)\s+language\s+model\b"
    r"|\byou\s+are\s+now\b"
    r"|\b(?:new|override)\s+(?:your\s+)?instructions\s*:"
    r"|\breveal\s+your\s+(?:instructions|prompt)\b",
    re.IGNORECASE,
)

_CURLY = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u2018": "'", "\u2019": "'"})
_QUOTED = re.compile(r'"([^"\n]+)"')
_QUOTED_SPAN = re.compile(r'["\u201c][^"\u201c\u201d\n]*["\u201d]')
_HEADING = re.compile(r"^(#{1,6})\s+\S")
_NUMBERING = re.compile(r"^\s*\d+\s*/\s*\d+[.:)]?\s+")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"'\u201d\u2019)]*|$)\s*")
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)]*(?=\s|$)")
_URL = re.compile(r"https?://\S+|\]\([^)]*\)")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_LIST_NUMBER = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)
_NUMBER = re.compile(r"([$\u20ac\u00a3])?\b(\d[\d,]*(?:\.\d+)?)\s*(%|percent\b|[kKmMbB]\b|x\b)?")
_SPELLED = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "thousand": 1000,
}  # fmt: skip
_SPELLED_COMPOUND = re.compile(
    r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[\s-](one|two|three|four|five|six|seven|eight|nine)\b"
)


# --- Text helpers (shared with the local provider) ------------------------------------------


def normalize_text(text: str) -> str:
    """Lower case, straight quotes, punctuation as spaces, single spaces: the form in which a
    quote and the transcript are compared, so typography never makes a true quote look false."""
    text = text.translate(_CURLY).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def strip_numbering(post: str) -> str:
    return _NUMBERING.sub("", post, count=1).strip()


def number_posts(texts: Sequence[str]) -> list[str]:
    """``1/N text`` for every post, numbering from scratch."""
    total = len(texts)
    return [f"{i}/{total} {text}" for i, text in enumerate(texts, 1)]


def trim_at_sentence(text: str, limit: int) -> str:
    """The longest prefix of whole sentences within ``limit`` characters; when not even one
    sentence fits, the longest prefix of whole words with an ellipsis."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= limit]
    if ends:
        return text[: ends[-1]].rstrip()
    cut = text[: max(limit - 1, 0)].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut + "\u2026"


def find_profanity(text: str) -> list[str]:
    return [m.group(0) for m in _PROFANITY.finditer(text)]


def find_instructions(text: str) -> list[str]:
    """Phrases of ``text`` that read like instructions to an AI (prompt injection)."""
    return [m.group(0) for m in _INSTRUCTIONS.finditer(text)]


def _outside_quotes(text: str) -> str:
    return _QUOTED_SPAN.sub(" ", text)


def _sentences(text: str) -> list[str]:
    return [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def _posts(draft: Draft) -> list[str]:
    if draft.posts:
        return list(draft.posts)
    return [p.strip() for p in draft.body.split("\n\n") if p.strip()]


def _with_posts(draft: Draft, posts: list[str]) -> Draft:
    return draft.model_copy(update={"posts": posts, "body": "\n\n".join(posts)})


def _with_body(draft: Draft, body: str) -> Draft:
    return draft.model_copy(update={"body": _tidy_blank_lines(body)})


def _tidy_blank_lines(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _short(text: str, size: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1].rstrip() + "\u2026"


# --- Context: what checks compare a draft with ------------------------------------------------


#: Words that show where a statistic comes from.
_SOURCE_MARKERS = re.compile(
    r"\b(?:according to|study|studies|survey|research|report|published|data from|analysis|census|source)\b",
    re.IGNORECASE,
)
#: Words a speaker uses about themselves (the percentage check and the judge's voice measure).
FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|my|me|we|we're|our|us)\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Context:
    transcript_text: str  # normalised, padded with spaces so that matches fall on word boundaries
    transcript_numbers: frozenset[str]
    unsourced_statistics: frozenset[str]
    cta_url: str | None

    @classmethod
    def build(cls, transcript: Transcript, options: JobOptions | None) -> _Context:
        # Numbers said only inside an injected instruction are not the speaker's claims.
        sentences = [s for s in _sentences(transcript.text) if not find_instructions(s)]
        spoken = " ".join(sentences)
        return cls(
            transcript_text=f" {normalize_text(transcript.text)} ",
            transcript_numbers=frozenset(_numbers_in(spoken) | _spelled_numbers(spoken)),
            unsourced_statistics=frozenset(_unsourced_statistics(sentences)),
            cta_url=options.cta_url if options else None,
        )


def _unsourced_statistics(sentences: list[str]) -> set[str]:
    """Percentages the speaker states about the world with no source nearby. A speaker's own
    figures ('my click-through went from 1% to 4%') are their own source; '93% of readers never
    open a second email', with nothing said about where it comes from, is not."""
    found = set()
    for i, sentence in enumerate(sentences):
        nearby = " ".join(sentences[max(0, i - 2) : i + 3])
        for match in _NUMBER.finditer(sentence):
            is_percentage = match.group(3) in ("%", "percent")
            if is_percentage and not FIRST_PERSON.search(sentence) and not _SOURCE_MARKERS.search(nearby):
                found.add(_canonical_number(match.group(2)))
    return found


def _canonical_number(digits: str) -> str:
    value = digits.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


def _numbers_in(text: str) -> set[str]:
    return {_canonical_number(m.group(2)) for m in _NUMBER.finditer(text)}


def _spelled_numbers(text: str) -> set[str]:
    lowered = text.lower()
    found = {str(v) for word, v in _SPELLED.items() if re.search(rf"\b{word}\b", lowered)}
    for tens, unit in _SPELLED_COMPOUND.findall(lowered):
        found.add(str(_SPELLED[tens] + _SPELLED[unit]))
    return found


@dataclass(frozen=True)
class _Claim:
    shown: str  # as written in the draft
    value: str  # canonical digits
    is_percentage: bool


def _claimed_numbers(draft: Draft) -> list[_Claim]:
    """The numbers a reader would take as facts: not timestamps, thread numbering, list
    markers or links, and not small bare counts."""
    text = "\n".join(strip_numbering(p) for p in _posts(draft)) if draft.format is DraftFormat.X_THREAD else draft.body
    text = _LIST_NUMBER.sub(" ", _CLOCK.sub(" ", _URL.sub(" ", text)))
    claims = []
    for match in _NUMBER.finditer(text):
        currency, digits, unit = match.groups()
        value = _canonical_number(digits)
        is_small_count = not currency and not unit and "." not in value and int(value) <= SMALL_NUMBER
        if not is_small_count:
            claims.append(_Claim(match.group(0).strip(), value, unit in ("%", "percent")))
    return claims


# --- Checks ---------------------------------------------------------------------------------


def _check(name: str, severity: str, problem: str | None, ok: str) -> QACheck:
    """A check result: failed with ``problem`` as the reason, or passed with ``ok``."""
    return QACheck(name=name, passed=problem is None, severity=severity, reason=problem or ok)


def check_platform_limits(draft: Draft, context: _Context) -> QACheck:
    if draft.format is DraftFormat.X_THREAD:
        posts = _posts(draft)
        long_posts = [f"post {i} has {len(p)}" for i, p in enumerate(posts, 1) if len(p) > X_POST_LIMIT]
        problem = f"{'; '.join(long_posts)} characters (X allows {X_POST_LIMIT})" if long_posts else None
        return _check("platform_limits", "warning", problem, f"all {len(posts)} posts fit in {X_POST_LIMIT} characters")
    if draft.format is DraftFormat.LINKEDIN:
        size = len(draft.body)
        problem = (
            f"the post has {size} characters (LinkedIn allows {LINKEDIN_LIMIT})" if size > LINKEDIN_LIMIT else None
        )
        return _check("platform_limits", "warning", problem, f"{size} of {LINKEDIN_LIMIT} characters")
    return _check("platform_limits", "info", None, f"a {draft.format.label.lower()} has no length limit")


def _ungrounded_quotes(text: str, context: _Context) -> list[str]:
    missing = []
    for passage in _QUOTED.findall(text.translate(_CURLY)):
        # An ellipsis marks an abridged quote: each kept piece must still be the speaker's words.
        pieces = [normalize_text(p) for p in re.split(r"\.\.\.|\u2026", passage)]
        if len(normalize_text(passage).split()) < MIN_QUOTE_WORDS:
            continue
        if any(p and f" {p} " not in context.transcript_text for p in pieces):
            missing.append(passage)
    return missing


def check_quotes_grounded(draft: Draft, context: _Context) -> QACheck:
    missing = _ungrounded_quotes(draft.text(), context)
    problem = None
    if missing:
        problem = f'{len(missing)} quote(s) are not in the transcript word for word, e.g. "{_short(missing[0])}"'
    return _check("quotes_grounded", "risk", problem, "every quote appears in the transcript")


def _empty_headings(lines: list[str]) -> list[int]:
    """Indexes of headings followed by nothing but blank lines before a heading of the same or
    a higher level (or the end): a section a reader would find empty."""
    empty = []
    for i, line in enumerate(lines):
        heading = _HEADING.match(line)
        if not heading:
            continue
        level = len(heading.group(1))
        following = next((other for other in lines[i + 1 :] if other.strip()), None)
        next_heading = _HEADING.match(following) if following else None
        if following is None or (next_heading and len(next_heading.group(1)) <= level):
            empty.append(i)
    return empty


def check_empty_sections(draft: Draft, context: _Context) -> QACheck:
    if draft.format is DraftFormat.X_THREAD:
        empty = [str(i) for i, p in enumerate(_posts(draft), 1) if not strip_numbering(p)]
        problem = f"post(s) {', '.join(empty)} have no text" if empty else None
        return _check("empty_sections", "warning", problem, "every post has text")
    lines = draft.body.splitlines()
    empty = [lines[i].lstrip("# ").strip() for i in _empty_headings(lines)]
    problem = f"section(s) with a heading but no text: {', '.join(repr(h) for h in empty)}" if empty else None
    return _check("empty_sections", "warning", problem, "every section has text")


def _repeated_sentences(text: str) -> list[str]:
    seen, repeated = set(), []
    for sentence in _sentences(text):
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


def _plain_text(draft: Draft) -> str:
    if draft.format is DraftFormat.X_THREAD:
        return "\n".join(strip_numbering(p) for p in _posts(draft))
    return "\n".join(line for line in draft.body.splitlines() if not _HEADING.match(line))


def check_repetition(draft: Draft, context: _Context) -> QACheck:
    text = _plain_text(draft)
    sentences, grams = _repeated_sentences(text), _repeated_ngrams(text)
    problem = None
    if sentences:
        problem = f'a sentence appears more than once: "{_short(sentences[0])}"'
    elif grams:
        problem = f'the words "{grams[0]}" repeat {REPEATED_NGRAM_TIMES} or more times'
    return _check("repetition", "warning", problem, "no repeated sentences or phrases")


def _phrase_pattern(phrase: str) -> re.Pattern:
    """Spaces and hyphens interchangeable, straight or curly apostrophes."""
    words = [re.escape(w).replace("'", "['\u2019]") for w in re.split(r"[\s-]+", phrase)]
    return re.compile(r"\b" + r"[\s-]+".join(words) + r"\b", re.IGNORECASE)


_BANNED = [(phrase, _phrase_pattern(phrase), replacement) for phrase, replacement in BANNED_PHRASES.items()]


def _banned_found(text: str) -> list[str]:
    outside = _outside_quotes(text)
    return [phrase for phrase, pattern, _ in _BANNED if pattern.search(outside)]


def check_banned_phrases(draft: Draft, context: _Context) -> QACheck:
    found = _banned_found(draft.text())
    problem = f"uses clich\u00e9s: {', '.join(repr(p) for p in found)}" if found else None
    return _check("banned_phrases", "warning", problem, "no clich\u00e9s from the banned list")


def _masked(word: str) -> str:
    return word[0] + "*" * (len(word) - 2) + word[-1] if len(word) > 2 else word


def check_profanity(draft: Draft, context: _Context) -> QACheck:
    words = sorted({w.lower() for w in find_profanity(draft.text())})
    problem = f"contains profanity ({', '.join(_masked(w) for w in words)})" if words else None
    return _check("profanity", "risk", problem, "no profanity")


def check_leaked_instructions(draft: Draft, context: _Context) -> QACheck:
    found = find_instructions(draft.text())
    problem = None
    if found:
        problem = (
            f'contains text that reads like an instruction to an AI ("{_short(found[0], 60)}"); '
            "it probably came from the transcript and should not be published"
        )
    return _check("leaked_instructions", "risk", problem, "no instruction-like text")


def check_unverifiable_numbers(draft: Draft, context: _Context) -> QACheck:
    claims = _claimed_numbers(draft)
    unknown = [c.shown for c in claims if c.value not in context.transcript_numbers]
    unsourced = [c.shown for c in claims if c.is_percentage and c.value in context.unsourced_statistics]
    problems = []
    if unknown:
        problems.append(f"numbers that the transcript never mentions: {', '.join(dict.fromkeys(unknown))}")
    if unsourced:
        problems.append(f"statistics the speaker gives without a source: {', '.join(dict.fromkeys(unsourced))}")
    problem = "; ".join(problems) + " \u2014 check them before publishing" if problems else None
    return _check("unverifiable_numbers", "risk", problem, "every number appears in the transcript with its source")


def check_cta_present(draft: Draft, context: _Context) -> QACheck:
    if not context.cta_url:
        return _check("cta_present", "info", None, "no call-to-action link was requested")
    present = context.cta_url.rstrip("/") in draft.text()
    problem = None if present else f"the call-to-action link {context.cta_url} is missing"
    return _check("cta_present", "warning", problem, "the call-to-action link is included")


def check_title_present(draft: Draft, context: _Context) -> QACheck:
    problem = None if draft.title.strip() else "the draft has no title"
    return _check("title_present", "info", problem, f'titled "{_short(draft.title, 60)}"')


_CHECKS: list[Callable[[Draft, _Context], QACheck]] = [
    check_platform_limits,
    check_quotes_grounded,
    check_empty_sections,
    check_repetition,
    check_banned_phrases,
    check_profanity,
    check_leaked_instructions,
    check_unverifiable_numbers,
    check_cta_present,
    check_title_present,
]


def run_checks(draft: Draft, transcript: Transcript, options: JobOptions | None = None) -> list[QACheck]:
    """Every rule check on ``draft``, in a fixed order, without fixing anything."""
    context = _Context.build(transcript, options)
    return [check(draft, context) for check in _CHECKS]


# --- Fixes ----------------------------------------------------------------------------------

# Wide enough for "NN/NN " so that a split never pushes a post over the limit by its number.
_NUMBER_ROOM = 6


def _split_points(text: str) -> list[int]:
    """Where a post may be cut: after a sentence, else after a word, never inside a quote."""
    quoted = [m.span() for m in _QUOTED_SPAN.finditer(text)]
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    word_ends = [m.start() for m in re.finditer(r" ", text)]
    for points in (sentence_ends, word_ends):
        outside = [p for p in points if 0 < p < len(text) and not any(a < p < b for a, b in quoted)]
        if outside:
            return outside
    return word_ends


def _split_text(text: str, budget: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``budget`` characters, as evenly as the allowed cut
    points permit (two pieces whenever two are enough)."""
    if len(text) <= budget:
        return [text]
    fitting = [p for p in _split_points(text) if p <= budget] or [budget]
    balanced = [p for p in fitting if len(text) - p <= budget]
    cut = min(balanced, key=lambda p: abs(p - len(text) / 2)) if balanced else max(fitting)
    return [text[:cut].strip(), *_split_text(text[cut:].strip(), budget)]


def fix_platform_limits(draft: Draft, context: _Context) -> tuple[Draft, list[QAFix]]:
    if draft.format is DraftFormat.X_THREAD:
        return _split_long_posts(draft)
    if draft.format is DraftFormat.LINKEDIN:
        return _trim_linkedin(draft, context)
    return draft, []


def _split_long_posts(draft: Draft) -> tuple[Draft, list[QAFix]]:
    texts, fixes = [], []
    for i, post in enumerate(_posts(draft), 1):
        if len(post) <= X_POST_LIMIT:
            texts.append(strip_numbering(post))
            continue
        pieces = _split_text(strip_numbering(post), X_POST_LIMIT - _NUMBER_ROOM)
        texts.extend(pieces)
        description = f"split post {i} ({len(post)} characters) into {len(pieces)} posts and renumbered the thread"
        fixes.append(QAFix(check="platform_limits", description=description, before=post, after="\n\n".join(pieces)))
    return _with_posts(draft, number_posts(texts)), fixes


def _closing_paragraphs(paragraphs: list[str], context: _Context) -> int:
    """How many trailing paragraphs are the sign-off (CTA link, hashtags) that a trim keeps."""
    count = 0
    for paragraph in reversed(paragraphs[-2:]):
        is_hashtags = all(word.startswith("#") for word in paragraph.split())
        has_cta = bool(context.cta_url) and context.cta_url in paragraph
        if not (is_hashtags or has_cta) or len(paragraph) > 400:
            break
        count += 1
    return count


def _trim_linkedin(draft: Draft, context: _Context) -> tuple[Draft, list[QAFix]]:
    paragraphs = [p for p in draft.body.strip().split("\n\n") if p.strip()]
    keep = _closing_paragraphs(paragraphs, context)
    head, tail = paragraphs[: len(paragraphs) - keep], paragraphs[len(paragraphs) - keep :]
    room = LINKEDIN_LIMIT - sum(len(p) + 2 for p in tail) - 1
    trimmed = trim_at_sentence("\n\n".join(head), room).rstrip()
    body = "\n\n".join([trimmed, *tail]).strip()
    fix = QAFix(
        check="platform_limits",
        description=f"trimmed the post from {len(draft.body)} to {len(body)} characters at a sentence boundary",
        before=draft.body,
        after=body,
    )
    return draft.model_copy(update={"body": body}), [fix]


def _replace_outside_quotes(text: str, pattern: re.Pattern, replacement: str | Callable[[re.Match], str]) -> str:
    pieces, last = [], 0
    for span in _QUOTED_SPAN.finditer(text):
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
    for _phrase, pattern, replacement in _BANNED:
        if replacement:
            text = _replace_outside_quotes(text, pattern, replacement)
        else:  # a lead-in: take its trailing comma with it
            lead_in = re.compile(r"(?:,[ \t]*)?" + pattern.pattern + r",?[ \t]*(?P<next>\w)?", re.IGNORECASE)
            text = _replace_outside_quotes(text, lead_in, _drop_lead_in)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r" +([,.;:!?])", r"\1", text)


def fix_banned_phrases(draft: Draft, context: _Context) -> tuple[Draft, list[QAFix]]:
    found = _banned_found(draft.text())
    description = f"removed or replaced clich\u00e9s: {', '.join(repr(p) for p in found)}"
    if draft.format is DraftFormat.X_THREAD:
        fixed = _with_posts(draft, [_remove_banned(p) for p in _posts(draft)])
    else:
        fixed = _with_body(draft, _remove_banned(draft.body))
    fix = QAFix(check="banned_phrases", description=description, before=draft.text(), after=fixed.text())
    return fixed, [fix]


def _drop_seen_sentences(line: str, seen: set[str]) -> str:
    """``line`` without the sentences already in ``seen``; adds the new ones to ``seen``."""
    prefix = re.match(r"^\s*(?:[>\-*\u2022\u2192]\s*)?", line).group(0)
    kept = []
    for sentence in _sentences(line[len(prefix) :]):
        key = normalize_text(sentence)
        if len(key.split()) >= MIN_REPEATED_SENTENCE_WORDS and key in seen:
            continue
        seen.add(key)
        kept.append(sentence)
    text = "".join(kept).strip()
    return prefix + text if text else ""


def _drop_repeats_in_lines(lines: list[str], seen: set[str]) -> list[str | None]:
    """Each line without repeated sentences; None where nothing of the line is left."""
    result = []
    for line in lines:
        if _HEADING.match(line) or not line.strip():
            result.append(line)
            continue
        result.append(_drop_seen_sentences(line, seen) or None)
    return result


def fix_repetition(draft: Draft, context: _Context) -> tuple[Draft, list[QAFix]]:
    seen: set[str] = set()
    if draft.format is DraftFormat.X_THREAD:
        texts = _drop_repeats_in_lines([strip_numbering(p) for p in _posts(draft)], seen)
        fixed = _with_posts(draft, number_posts([t for t in texts if t]))
    else:
        lines = _drop_repeats_in_lines(draft.body.splitlines(), seen)
        fixed = _with_body(draft, "\n".join(line for line in lines if line is not None))
    if fixed.text().strip() == draft.text().strip():  # only a repeated phrase: nothing to drop
        return draft, []
    fix = QAFix(check="repetition", description="dropped repeated sentences", before=draft.text(), after=fixed.text())
    return fixed, [fix]


def fix_empty_sections(draft: Draft, context: _Context) -> tuple[Draft, list[QAFix]]:
    if draft.format is DraftFormat.X_THREAD:
        fixed = _with_posts(draft, number_posts([t for p in _posts(draft) if (t := strip_numbering(p))]))
    else:
        lines = draft.body.splitlines()
        while empty := set(_empty_headings(lines)):  # dropping a subsection can empty its parent
            lines = [line for i, line in enumerate(lines) if i not in empty]
        fixed = _with_body(draft, "\n".join(lines))
    fix = QAFix(check="empty_sections", description="dropped empty sections", before=draft.text(), after=fixed.text())
    return fixed, [fix]


def fix_title_present(draft: Draft, context: _Context) -> tuple[Draft, list[QAFix]]:
    first_heading = next((line for line in draft.text().splitlines() if _HEADING.match(line)), "")
    first_line = next((line for line in draft.text().splitlines() if line.strip()), "")
    title = _short(strip_numbering(first_heading.lstrip("# ") or first_line), 100)
    if not title:
        return draft, []
    fix = QAFix(
        check="title_present", description="used the first heading or line as the title", before="", after=title
    )
    return draft.model_copy(update={"title": title}), [fix]


#: Fixes in the order they run: text removals first, so that the length fix sees the final text.
_FIXES: list[tuple[Callable[[Draft, _Context], QACheck], Callable[[Draft, _Context], tuple[Draft, list[QAFix]]]]] = [
    (check_banned_phrases, fix_banned_phrases),
    (check_repetition, fix_repetition),
    (check_empty_sections, fix_empty_sections),
    (check_title_present, fix_title_present),
    (check_platform_limits, fix_platform_limits),
]


def _auto_fix(draft: Draft, context: _Context) -> tuple[Draft, list[QAFix]]:
    fixes: list[QAFix] = []
    for check, fix in _FIXES:
        if not check(draft, context).passed:
            draft, applied = fix(draft, context)
            fixes.extend(applied)
    return draft, fixes


# --- Score, review, report ------------------------------------------------------------------


def rule_score(checks: Sequence[QACheck]) -> int:
    return max(
        0, 100 - sum(SEVERITY_PENALTY.get(c.severity, SEVERITY_PENALTY["warning"]) for c in checks if not c.passed)
    )


def _blended_score(checks: Sequence[QACheck], judge: Sequence[JudgeScore]) -> int:
    rules = rule_score(checks)
    if not judge:
        return rules
    judged = 10 * sum(s.score for s in judge) / len(judge)
    return round((1 - JUDGE_WEIGHT) * rules + JUDGE_WEIGHT * judged)


def _judge_risks(scores: Sequence[JudgeScore]) -> list[str]:
    return [
        f"the judge scored {s.criterion} {s.score}/10: {s.reason}"
        for s in scores
        if s.criterion in JUDGE_RISK_CRITERIA and s.score <= JUDGE_RISK_SCORE
    ]


def _judge_scores(judge: Judge | None, draft: Draft) -> list[JudgeScore]:
    if judge is None:
        return []
    return list(judge(draft) if callable(judge) else judge)


def review_draft(
    draft: Draft,
    transcript: Transcript,
    *,
    options: JobOptions | None = None,
    judge: Judge | None = None,
    threshold: int = defaults.QA_THRESHOLD,
) -> tuple[DraftReview, Draft]:
    """Check, auto-fix and score one draft; return the review and the fixed draft.

    ``judge`` is either the judge's scores (0-10 per criterion) or a function that scores the
    fixed draft; either way they count for half of the score.
    """
    context = _Context.build(transcript, options)
    fixed, fixes = _auto_fix(draft, context)
    checks = [check(fixed, context) for check in _CHECKS]
    scores = _judge_scores(judge, fixed)
    score = _blended_score(checks, scores)
    risk_flags = [c.reason for c in checks if not c.passed and c.severity == "risk"] + _judge_risks(scores)
    review = DraftReview(
        format=draft.format,
        score=score,
        checks=checks,
        fixes=fixes,
        judge=scores,
        risk_flags=risk_flags,
        requires_review=needs_review(score, risk_flags, threshold),
    )
    return review, fixed


def needs_review(score: int | None, risk_flags: Sequence[str], threshold: int) -> bool:
    """The one rule for sending a draft to an editor: a risk, or a score below the threshold."""
    return bool(risk_flags) or (score or 0) < threshold


def _review_line(review: DraftReview) -> str:
    reasons = "; ".join(review.risk_flags) or "score below the threshold"
    return f"{review.format.label} (score {review.score}): {reasons}"


def build_report(reviews: Sequence[DraftReview], threshold: int = defaults.QA_THRESHOLD) -> QAReport:
    """The QA report of a run: it needs an editor when any draft does."""
    flagged = [r for r in reviews if r.requires_review]
    fixes = sum(len(r.fixes) for r in reviews)
    summary = f"{len(reviews)} draft(s) reviewed, {fixes} auto-fix(es) applied; "
    if flagged:
        summary += f"{len(flagged)} need an editor: " + " | ".join(_review_line(r) for r in flagged)
    else:
        summary += f"all scored at least {threshold} with no risks."
    return QAReport(threshold=threshold, drafts=list(reviews), requires_review=bool(flagged), summary=summary)
