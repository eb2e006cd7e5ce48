"""Quote selection: the lines a person would quote from the talk.

Candidates are the usable sentences and the opening clauses of long ones (a 70-word sentence
may begin with the line everyone remembers). Each is scored by how much of the talk's substance
it carries, how quotable it is (:func:`punch`), how well it stands alone (:func:`weakness`) and
whether its length reads well as a quote. The best are taken, spread over the talk and its
themes, one per sentence, none saying the same thing as another. Quotes come out best first.
"""

from __future__ import annotations

import math
from collections import Counter

from pipeline.extractive.corpus import Corpus
from pipeline.extractive.sentences import Span, clauses, is_usable, punch, weakness
from pipeline.models import Quote
from pipeline.text import normalize_text
from pipeline.words import content_runs, stem

__all__ = ["select_quotes", "quote_score", "span_terms"]


def span_terms(text: str) -> Counter:
    """Stems of the content words of a piece of text."""
    return Counter(stem(word) for run in content_runs(text) for word in run)


def _information(terms: Counter, words: int, corpus: Corpus) -> float:
    """Weighted content words per word: how much of the talk's substance a line carries."""
    return sum(corpus.term_weights.get(t, 0.0) for t in set(terms)) / max(words, 1) ** 0.6


#: Words in a row that, said twice in a talk, mark a line the speaker chose to repeat.
ECHO_WORDS = 5
#: What a repeated line adds to a quote's punch: speakers repeat what they want remembered
#: ("We choose to go to the Moon. We choose to go to the Moon in this decade...").
ECHO_PUNCH = 0.6


def _grams(text: str) -> list[str]:
    words = normalize_text(text).split()
    return [" ".join(words[i : i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1)]


def _echoes(corpus: Corpus) -> Counter:
    """How often each run of ECHO_WORDS words is said in the talk."""
    return Counter(gram for sentence in corpus.sentences for gram in set(_grams(sentence.text)))


def quote_score(span: Span, information: float, params: dict, *, echoed: bool = False) -> float:
    """``information`` is relative to the most informative candidate (0-1); ``echoed``: the
    speaker says the line's words again elsewhere."""
    low, high = params["ideal_quote_words"]
    fit = 1.0 if low <= span.words <= high else 0.75
    emphasis = punch(span.text) + (ECHO_PUNCH if echoed else 0.0)
    # Rhetoric makes a line quotable more than its share of the talk's vocabulary does; the
    # information term only keeps empty lines ("That was a great moment.") down.
    return (0.8 + information / 2) * (1 + emphasis) * fit * weakness(span.text)


def _candidates(corpus: Corpus, params: dict, used: set[int]) -> list[Span]:
    low, high = params["min_quote_words"], params["max_quote_words"]
    spans = []
    for sentence in corpus.sentences:
        if sentence.index in used or not is_usable(sentence, low, 10_000):
            continue
        spans += clauses(sentence, low, high)
    return spans


def _ranked(corpus: Corpus, params: dict, used: set[int]) -> list[Span]:
    """Candidates best first; for each sentence only its best span."""
    spans = _candidates(corpus, params, used)
    information = {id(s): _information(span_terms(s.text), s.words, corpus) for s in spans}
    top = max(information.values(), default=1.0) or 1.0
    echoes = _echoes(corpus)

    def score(span: Span) -> float:
        echoed = any(echoes[gram] > 1 for gram in _grams(span.text))
        return quote_score(span, information[id(span)] / top, params, echoed=echoed)

    scored = sorted(spans, key=lambda s: (-score(s), s.sentence.index, -s.words))
    best: dict[int, Span] = {}
    for span in scored:
        best.setdefault(span.sentence.index, span)
    return [span for span in scored if best[span.sentence.index] is span]


def _too_similar(span: Span, chosen: list[Span]) -> bool:
    terms = set(span_terms(span.text))
    for other in chosen:
        theirs = set(span_terms(other.text))
        if len(terms & theirs) / max(len(terms | theirs), 1) > 0.4:
            return True
    return False


def _spread(ranked: list[Span], wanted: int, spacing: float, theme_of: dict[int, int], per_theme: int) -> list[Span]:
    """Best first, but spread out: not near another quote in time, not more than ``per_theme``
    from one theme, not saying the same thing. Each pass that comes up short relaxes them."""
    chosen: list[Span] = []
    for gap, cap in ((spacing, per_theme), (spacing / 3, per_theme + 1), (0.0, wanted)):
        for span in ranked:
            if len(chosen) >= wanted or span in chosen or _too_similar(span, chosen):
                continue
            theme = theme_of.get(span.sentence.index)
            same_theme = sum(1 for c in chosen if theme_of.get(c.sentence.index) == theme)
            if same_theme < cap and all(abs(span.sentence.start - c.sentence.start) >= gap for c in chosen):
                chosen.append(span)
    return sorted(chosen, key=lambda s: ranked.index(s))


def select_quotes(
    corpus: Corpus, params: dict, theme_of: dict[int, int], themes: list[str], used: set[int]
) -> list[Quote]:
    """The talk's quotes, best first; the sentences they come from are added to ``used``."""
    wanted = round(corpus.total_words / params["words_per_quote"])
    wanted = min(max(wanted, params["min_quotes"]), params["max_quotes"])
    duration = corpus.sentences[-1].end - corpus.sentences[0].start
    per_theme = math.ceil(wanted / max(len(themes), 1))
    chosen = _spread(_ranked(corpus, params, used), wanted, duration / (wanted * 2), theme_of, per_theme)
    used.update(span.sentence.index for span in chosen)
    return [
        Quote(
            text=span.text,
            start=span.sentence.start,
            end=span.sentence.end,
            speaker=span.sentence.speaker,
            theme=themes[theme_of[span.sentence.index]] if span.sentence.index in theme_of else None,
        )
        for span in chosen
    ]
