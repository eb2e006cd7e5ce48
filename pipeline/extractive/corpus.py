"""Statistics of one talk: where each word and phrase is used, how much each part of the talk
uses it more than its size predicts (keyness), and TF-IDF weights over time windows, so that
a word that matters in one part counts more than one spread evenly through the talk."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.extractive.sentences import Sentence
from pipeline.words import content_runs, stem

__all__ = ["Corpus", "build_corpus", "cosine", "keyness", "ranked_phrases", "term_keyness", "sum_counters"]


@dataclass
class Corpus:
    sentences: list[Sentence]
    surfaces: dict[tuple, Counter]  # phrase key -> how it was written
    phrase_totals: Counter
    term_weights: dict[str, float]  # TF-IDF over time windows
    window_idf: dict[str, float]
    windows: list[list[int]]
    total_words: int

    def display(self, key: tuple) -> str:
        return self.surfaces[key].most_common(1)[0][0] if key in self.surfaces else " ".join(key)

    def words_in(self, indexes: Iterable[int]) -> int:
        return sum(self.sentences[i].words for i in indexes)


def _surfaces(sentences: list[Sentence]) -> dict[tuple, Counter]:
    surfaces: dict[tuple, Counter] = {}
    for sentence in sentences:
        for run in content_runs(sentence.text):
            stems = [stem(w) for w in run]
            for n in (1, 2, 3):
                for i in range(len(run) - n + 1):
                    surfaces.setdefault(tuple(stems[i : i + n]), Counter())[" ".join(run[i : i + n])] += 1
    return surfaces


def _windows(sentences: list[Sentence], window_words: int) -> list[list[int]]:
    """Consecutive sentences grouped into windows of about ``window_words`` words."""
    windows: list[list[int]] = [[]]
    size = 0
    for sentence in sentences:
        if size >= window_words:
            windows.append([])
            size = 0
        windows[-1].append(sentence.index)
        size += sentence.words
    return windows


def _idf(documents: list[Counter]) -> dict[str, float]:
    frequency = Counter(term for document in documents for term in document)
    count = len(documents)
    return {term: math.log((1 + count) / (1 + df)) + 1 for term, df in frequency.items()}


def sum_counters(counters: Iterable[Counter]) -> Counter:
    total: Counter = Counter()
    for counter in counters:
        total.update(counter)
    return total


def build_corpus(sentences: list[Sentence], window_words: int) -> Corpus:
    windows = _windows(sentences, window_words)
    window_terms = [sum_counters(sentences[i].terms for i in window) for window in windows]
    idf = _idf(window_terms)
    totals = sum_counters(s.terms for s in sentences)
    return Corpus(
        sentences=sentences,
        surfaces=_surfaces(sentences),
        phrase_totals=sum_counters(s.phrases for s in sentences),
        term_weights={term: count * idf[term] for term, count in totals.items()},
        window_idf=idf,
        windows=windows,
        total_words=sum(s.words for s in sentences),
    )


def cosine(a: Counter, b: Counter, idf: dict[str, float]) -> float:
    dot = sum(a[t] * b[t] * idf.get(t, 1.0) ** 2 for t in a if t in b)
    norm_a = math.sqrt(sum((c * idf.get(t, 1.0)) ** 2 for t, c in a.items()))
    norm_b = math.sqrt(sum((c * idf.get(t, 1.0)) ** 2 for t, c in b.items()))
    return dot / (norm_a * norm_b) if norm_a and norm_b else 0.0


def keyness(count: int, total: int, share: float) -> float:
    """How much more a part of the talk uses a word or phrase than its size predicts."""
    expected = max(total * share, 1e-9)
    return count * math.log(1 + count / expected)


def ranked_phrases(corpus: Corpus, indexes: Sequence[int], phrase_bonus: float = 2.0) -> list[tuple[tuple, float]]:
    """Key phrases of a part of the talk, most distinctive first. A phrase of two or three
    words must occur twice to count: once is a coincidence of wording. ``phrase_bonus``
    favours phrases over single words (titles want them more than keyword lists do)."""
    counts = sum_counters(corpus.sentences[i].phrases for i in indexes)
    share = corpus.words_in(indexes) / max(corpus.total_words, 1)
    ranked = [
        (key, keyness(count, corpus.phrase_totals[key], share) * (phrase_bonus if len(key) > 1 else 1.0))
        for key, count in counts.items()
        if len(key) == 1 or count >= 2
    ]
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


def term_keyness(corpus: Corpus, indexes: Sequence[int]) -> dict[str, float]:
    counts = sum_counters(corpus.sentences[i].terms for i in indexes)
    share = corpus.words_in(indexes) / max(corpus.total_words, 1)
    return {term: keyness(count, corpus.phrase_totals[(term,)], share) for term, count in counts.items()}
