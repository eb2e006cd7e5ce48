"""The outline of a talk: where it changes topic (TextTiling over sentence gaps, with the
speaker's own announcements of a new part winning over lexical dips), and what each part is
(a named topic, the introduction, questions, or the wrap-up)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from pipeline.extractive.corpus import Corpus, cosine, sum_counters
from pipeline.extractive.sentences import PART_NAME, TOPIC_NAME, TRANSITION
from pipeline.words import title_case

__all__ = ["Part", "outline_size", "segment", "parts_of"]


def outline_size(corpus: Corpus, params: dict) -> int:
    wanted = round(corpus.total_words / params["words_per_outline_item"])
    wanted = min(max(wanted, params["min_outline"]), params["max_outline"])
    # A short clip cannot hold many parts: each needs some words of its own.
    return max(1, min(wanted, corpus.total_words // params["min_words_per_part"], len(corpus.sentences)))


def _gap_similarities(corpus: Corpus, span: int) -> list[float]:
    """Similarity of the ``span`` sentences before each gap to the ``span`` after it."""
    sentences = corpus.sentences
    scores = []
    for gap in range(1, len(sentences)):
        before = sum_counters(s.terms for s in sentences[max(0, gap - span) : gap])
        after = sum_counters(s.terms for s in sentences[gap : gap + span])
        scores.append(cosine(before, after, corpus.window_idf))
    return scores


def _depths(scores: list[float]) -> list[float]:
    """How deep each gap's similarity dips below the peaks it climbs to on either side
    (TextTiling's depth score)."""
    depths = []
    for i, score in enumerate(scores):
        left = right = i
        while left > 0 and scores[left - 1] >= scores[left]:
            left -= 1
        while right < len(scores) - 1 and scores[right + 1] >= scores[right]:
            right += 1
        depths.append(scores[left] + scores[right] - 2 * score)
    return depths


def _boundary_scores(corpus: Corpus, span: int) -> list[float]:
    """Depth of each gap, plus the deepest depth again where the next sentence announces a new
    part, so that announced parts win over lexical dips."""
    depths = _depths(_gap_similarities(corpus, span))
    bonus = max(depths, default=0.0)
    announced = [TRANSITION.search(s.text) is not None for s in corpus.sentences[1:]]
    return [depth + (bonus if new_part else 0.0) for depth, new_part in zip(depths, announced, strict=True)]


def _pick_cuts(depths: list[float], word_offsets: list[int], wanted: int, min_words: float) -> list[int]:
    """The deepest gaps, at least ``min_words`` from each other (half that from the ends: an
    introduction or a wrap-up is often short); the spacing is relaxed when the talk has too
    few clear cuts."""
    total = word_offsets[-1]
    order = sorted(range(len(depths)), key=lambda i: (-depths[i], i))
    cuts: list[int] = []
    while len(cuts) < wanted and min_words >= 1:
        for gap in order:
            offset = word_offsets[gap + 1]
            far_enough = min_words / 2 <= offset <= total - min_words / 2
            if far_enough and all(abs(offset - word_offsets[c]) >= min_words for c in cuts) and len(cuts) < wanted:
                cuts.append(gap + 1)
        min_words /= 2
    return sorted(cuts)


def segment(corpus: Corpus, parts: int, params: dict) -> list[list[int]]:
    """The talk cut into ``parts`` runs of sentences at its topic shifts."""
    count = len(corpus.sentences)
    if parts <= 1 or count < 2:
        return [list(range(count))]
    offsets = [0]
    for sentence in corpus.sentences:
        offsets.append(offsets[-1] + sentence.words)
    scores = _boundary_scores(corpus, params["tiling_span"])
    cuts = _pick_cuts(scores, offsets, parts - 1, corpus.total_words / (parts * 2))
    bounds = [0, *cuts, count]
    return [list(range(a, b)) for a, b in pairwise(bounds) if b > a]


_WRAP_UP = re.compile(r"\b(?:let me wrap|to wrap (?:up|things up)|wrapping up|in summary|to sum up)", re.IGNORECASE)
_QUESTIONS = re.compile(
    r"\b(?:open (?:it|things|the floor) up for questions|(?:do|take) (?:some|a few|your) questions)", re.IGNORECASE
)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an|our|your|my)\s+", re.IGNORECASE)


@dataclass
class Part:
    """A run of sentences on one topic; ``name`` is what the speaker called it, if they did."""

    indexes: list[int]
    kind: str = "topic"  # "topic", "intro", "questions" or "wrap_up"
    name: str | None = None


def _announced_name(text: str) -> str | None:
    match = PART_NAME.search(text) or TOPIC_NAME.search(text)
    return title_case(_LEADING_ARTICLE.sub("", match.group("name").strip())) if match else None


def parts_of(corpus: Corpus, runs: list[list[int]]) -> list[Part]:
    """Name each run and tell the talk's frame (introduction, questions, wrap-up) from its
    topics: a run before the first announced part is the introduction."""
    parts = []
    for run in runs:
        first = corpus.sentences[run[0]].text
        kind = "wrap_up" if _WRAP_UP.search(first) else "questions" if _QUESTIONS.search(first) else "topic"
        parts.append(Part(run, kind, _announced_name(first) if kind == "topic" else None))
    if len(parts) > 1 and parts[0].name is None and any(p.name for p in parts[1:]):
        parts[0].kind = "intro"
    return parts
