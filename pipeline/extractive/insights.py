"""Extractive insights: an outline, themes, quotes, a title and a summary from the speaker's
own words, deterministic (ties broken by position in the talk).

1. Sentences are rebuilt from cues and weighted by TF-IDF over time windows.
2. The outline cuts the talk where its vocabulary shifts (or where the speaker announces a new
   part); each part is named by the speaker's own name for it, a phrase they repeat there, or
   the opening words of its strongest line.
3. Themes merge outline parts with similar vocabulary.
4. Quotes are the most quotable lines (:mod:`pipeline.extractive.quotes`), best first.
5. The title is what the speaker says the talk is about, else the opening of the best quote;
   the summary is the talk's most central sentences. No glue text is invented: keyword lists
   are never turned into sentences.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from pipeline.extractive.corpus import Corpus, build_corpus, cosine, ranked_phrases, sum_counters, term_keyness
from pipeline.extractive.outline import Part, outline_size, parts_of, segment
from pipeline.extractive.quotes import select_quotes
from pipeline.extractive.sentences import (
    Sentence,
    is_usable,
    punch,
    rebuild_sentences,
    sentence_limit,
    tidy,
    weakness,
)
from pipeline.grounding import ground_quotes
from pipeline.models import InsightPack, OutlineItem, Quote, Theme
from pipeline.prompts import Prompt
from pipeline.transcript import Transcript
from pipeline.words import STOPWORDS, title_case

__all__ = ["extract_insights", "representative", "central_sentences"]

#: A title taken from a line is its opening clause, within these many words (a cut at a comma
#: may run longer than one at a conjunction, which reads less complete).
TITLE_WORDS = (3, 12)
CONJUNCTION_TITLE_WORDS = 10
_COMMA_CUT = re.compile(r"[,;:]|\s[-\u2013\u2014]\s")
_CONJUNCTION_CUT = re.compile(r"\s(?:and|but|because|so|which|who|that|when|while|if|in order to)\s")


# --- Representative sentences ---------------------------------------------------------------


def representative(
    corpus: Corpus, indexes: Sequence[int], weights: dict[str, float], used: set[int], limit: int
) -> list[Sentence]:
    """Up to ``limit`` sentences that best carry ``weights``, in the order they were said."""
    candidates = [corpus.sentences[i] for i in indexes if i not in used]
    usable = [s for s in candidates if is_usable(s, 8, 40)] or [s for s in candidates if is_usable(s, 5, 60)]

    def carries(sentence: Sentence) -> float:
        quality = weakness(sentence.text) * (1 + punch(sentence.text) / 2)
        return quality * sum(weights.get(t, 0.0) for t in sentence.terms) / math.sqrt(sentence.words)

    chosen = sorted(usable, key=lambda s: (-carries(s), s.index))[:limit]
    return sorted(chosen, key=lambda s: s.index)


def central_sentences(corpus: Corpus, used: set[int], limit: int) -> list[Sentence]:
    """The sentences that carry the whole talk best."""
    return representative(corpus, range(len(corpus.sentences)), corpus.term_weights, used, limit)


def _summary_of(sentences: list[Sentence], max_words: int) -> str:
    kept, size = [], 0
    for sentence in sentences:
        if kept and size + sentence.words > max_words:
            break
        kept.append(tidy(sentence.text))
        size += sentence.words
    return " ".join(kept)


# --- Titles ---------------------------------------------------------------------------------


def _opening_words(text: str) -> str | None:
    """The opening clause of a line as a title ('We set sail on this new sea'): cut at its first
    comma, else at its first conjunction; None when that does not make a title."""
    low, high = TITLE_WORDS
    line = tidy(text).rstrip(".!?")
    opening = _COMMA_CUT.split(line, maxsplit=1)[0].split()
    if len(opening) > high or len(opening) > CONJUNCTION_TITLE_WORDS and _CONJUNCTION_CUT.search(" ".join(opening)):
        shorter = _CONJUNCTION_CUT.split(" ".join(opening), maxsplit=1)[0].split()
        opening = shorter if low <= len(shorter) <= CONJUNCTION_TITLE_WORDS else opening
    if not low <= len(opening) <= high or opening[-1].lower() in STOPWORDS:
        return None
    return " ".join(opening)


def _phrase_title(corpus: Corpus, indexes: Sequence[int], taken: set[str]) -> str | None:
    """A phrase of two or three words the speaker repeats in this part and nowhere as much
    ('Batch Recording'), not used by another part."""
    for key, _ in ranked_phrases(corpus, indexes):
        if len(key) < 2:
            continue
        title = title_case(corpus.display(key))
        if title.lower() not in taken:
            return title
    return None


def _line_title(corpus: Corpus, indexes: Sequence[int], taken: set[str]) -> str | None:
    """The opening words of the part's strongest line ('We Choose to Go to the Moon')."""
    for sentence in representative(corpus, indexes, term_keyness(corpus, indexes), set(), 5):
        opening = _opening_words(sentence.text)
        if opening and opening.lower() not in taken:
            return opening
    return None


def _keyword_title(corpus: Corpus, indexes: Sequence[int], taken: set[str]) -> str:
    for key, _ in ranked_phrases(corpus, indexes):
        title = title_case(corpus.display(key))
        if title.lower() not in taken:
            return title
    return "Part"


def _topic_title(corpus: Corpus, indexes: Sequence[int], taken: set[str]) -> str:
    title = (
        _phrase_title(corpus, indexes, taken)
        or _line_title(corpus, indexes, taken)
        or _keyword_title(corpus, indexes, taken)
    )
    taken.add(title.lower())
    return title


def _part_title(corpus: Corpus, part: Part, prompt: Prompt, taken: set[str]) -> str:
    if part.kind != "topic":
        title = prompt.render(f"{part.kind}_title")
        taken.add(title.lower())
        return title
    if part.name:
        taken.add(part.name.lower())
        return part.name
    return _topic_title(corpus, part.indexes, taken)


# --- Outline and themes ---------------------------------------------------------------------


def _outline(corpus: Corpus, parts: list[Part], prompt: Prompt) -> list[OutlineItem]:
    items, taken = [], set()
    for part in parts:
        lead = representative(corpus, part.indexes, term_keyness(corpus, part.indexes), set(), 1)
        items.append(
            OutlineItem(
                start=corpus.sentences[part.indexes[0]].start,
                title=_part_title(corpus, part, prompt, taken),
                summary=tidy(lead[0].text) if lead else "",
            )
        )
    return items


def _theme_parts(parts: list[Part], params: dict) -> list[Part]:
    """The topic parts; the frame (introduction, questions, wrap-up) only when the talk has too
    few topics without it, since it touches every topic and belongs to none."""
    topics = [p for p in parts if p.kind == "topic"]
    return topics if len(topics) >= min(params["min_themes"], len(parts)) else parts


def _group_parts(corpus: Corpus, parts: list[Part], params: dict) -> list[list[Part]]:
    """Merge parts into themes: always down to ``max_themes``, and further while two groups
    share enough vocabulary and more than ``min_themes`` remain."""
    groups = [[p] for p in parts]
    vectors = [sum_counters(corpus.sentences[i].terms for i in p.indexes) for p in parts]
    while len(groups) > 1:
        similarity, a, b = max(
            (cosine(vectors[a], vectors[b], corpus.window_idf), -a, -b)
            for a in range(len(groups))
            for b in range(a + 1, len(groups))
        )
        a, b = -a, -b
        must_merge = len(groups) > params["max_themes"]
        if not must_merge and (similarity < params["theme_merge_similarity"] or len(groups) <= params["min_themes"]):
            break
        groups[a] = groups[a] + groups.pop(b)
        vectors[a] = vectors[a] + vectors.pop(b)
    return groups


def _keywords(corpus: Corpus, indexes: Sequence[int], count: int) -> list[str]:
    """The most distinctive phrases of a part, skipping a word already inside a chosen phrase."""
    chosen: list[tuple] = []
    for key, _ in ranked_phrases(corpus, indexes, phrase_bonus=1.2):
        if len(chosen) == count:
            break
        if not any(set(key) <= set(other) or set(other) <= set(key) for other in chosen):
            chosen.append(key)
    shown = [corpus.display(key) for key in chosen]
    return [phrase.lower() if phrase[1:].islower() else phrase for phrase in shown]


def _indexes(group: list[Part]) -> list[int]:
    return sorted(i for part in group for i in part.indexes)


def _theme_title(corpus: Corpus, group: list[Part], taken: set[str]) -> str:
    """The speaker's names for the parts when they named them, else a title of the group's own."""
    names = list(dict.fromkeys(p.name for p in group if p.name))[:2]
    if not names:
        return _topic_title(corpus, _indexes(group), taken)
    title = " & ".join(names)
    taken.add(title.lower())
    return title


def _theme(corpus: Corpus, group: list[Part], title: str, params: dict, used: set[int]) -> Theme:
    indexes, limit = _indexes(group), params["theme_summary_sentences"]
    weights = term_keyness(corpus, indexes)
    # A short part may be all quotes: then its summary repeats its best lines rather than be empty.
    chosen = representative(corpus, indexes, weights, used, limit) or representative(corpus, indexes, weights, set(), 1)
    used.update(s.index for s in chosen)
    return Theme(
        title=title,
        summary=_summary_of(chosen, params["theme_summary_words"]),
        keywords=_keywords(corpus, indexes, params["theme_keywords"]),
    )


# --- Title and summary ----------------------------------------------------------------------

_ANNOUNCEMENT = re.compile(
    r"\b(?:want to|going to|gonna|will|'ll|\u2019ll|am here to|here to)\s+"
    r"(?:talk(?: to you)? about|walk you through|show you|share|cover)\s+(?P<subject>[^.,;:!?]{8,90}?)"
    # The subject ends with the clause: punctuation, or (in unpunctuated captions) the speaker
    # starting a new one ("...a week of content i'm a solo creator").
    r"(?=\s*[.,;:!?]|\s+(?:i|i'm|we|we're|so|but|because|you|you're)\b|\s*$)",
    re.IGNORECASE,
)


def _announced_subject(corpus: Corpus) -> str | None:
    """What the speaker says the talk is about ('today I want to talk about X'), if they say it
    near the start."""
    opening = corpus.sentences[: max(3, len(corpus.sentences) // 10)]
    for sentence in opening:
        match = _ANNOUNCEMENT.search(sentence.text)
        if match and 3 <= len(match.group("subject").split()) <= 12:
            return match.group("subject").strip()
    return None


def _pack_title(prompt: Prompt, subject: str | None, quotes: list[Quote], fallback: str) -> str:
    """What the speaker says the talk is about; else the opening of the best quote, which is
    the line a reader would recognise the talk by."""
    if subject:
        return title_case(prompt.render("title_announced", subject=subject))
    for quote in quotes:
        opening = _opening_words(quote.text)
        if opening:
            return opening
    return fallback


def extract_insights(transcript: Transcript, prompt: Prompt) -> InsightPack:
    """The insight pack of a transcript, with the algorithm parameters of ``prompt``."""
    params = prompt.params
    sentences = rebuild_sentences(transcript, sentence_limit(transcript, params))
    corpus = build_corpus(sentences, params["window_words"])
    if not corpus.sentences:
        return InsightPack(title="Untitled", summary="", themes=[], quotes=[], outline=[])
    parts = parts_of(corpus, segment(corpus, outline_size(corpus, params), params))
    outline = _outline(corpus, parts, prompt)
    groups = sorted(_group_parts(corpus, _theme_parts(parts, params), params), key=lambda g: _indexes(g)[0])
    titles: set[str] = set()
    theme_titles = [_theme_title(corpus, group, titles) for group in groups]
    theme_of = {i: number for number, group in enumerate(groups) for i in _indexes(group)}
    used: set[int] = set()
    # Quotes choose first: a line punchy enough to quote is better quoted than summarised.
    quotes = select_quotes(corpus, params, theme_of, theme_titles, used)
    themes = [_theme(corpus, group, title, params, used) for group, title in zip(groups, theme_titles, strict=True)]
    central = central_sentences(corpus, used, params["summary_sentences"])
    title = _pack_title(prompt, _announced_subject(corpus), quotes, fallback=outline[0].title)
    pack = InsightPack(
        title=title,
        summary=_summary_of(central, params.get("summary_words", 60)),
        themes=themes,
        quotes=quotes,
        outline=outline,
    )
    grounded, _ = ground_quotes(pack, transcript)  # clause quotes take the times of their own cues
    return grounded
