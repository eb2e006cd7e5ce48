"""The offline content provider: extractive insights and drafts composed from templates.

Nothing here calls a service and nothing is random: the same transcript, options and prompt
version give the same output, with ties always broken by position in the talk. Quotes are whole
transcript sentences, copied verbatim, so a draft built from them can be checked word for word.

Insights, in order:

1. Sentences are rebuilt from cues (captions split sentences anywhere) and keep the start time
   of the cue where they start.
2. Content words (stop words removed, plurals folded) are weighted by TF-IDF over windows of
   about ``window_words`` words, so a word that matters in one part of the talk counts more than
   one spread evenly through it.
3. The outline cuts the talk where the vocabulary before a sentence gap is least like the
   vocabulary after it (TextTiling); each part is titled by its most distinctive key phrase.
4. Themes group outline parts with similar vocabulary (agglomerative, cosine similarity), so a
   topic the speaker returns to later is one theme.
5. Quotes are the punchiest informative sentences, chosen to spread over the talk and themes.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from pipeline import defaults
from pipeline.models import (
    LINKEDIN_LIMIT,
    X_POST_LIMIT,
    Draft,
    DraftFormat,
    InsightPack,
    JobOptions,
    JudgeScore,
    OutlineItem,
    Provenance,
    Quote,
    Theme,
)
from pipeline.prompts import Prompt, load_prompt
from pipeline.providers.base import DRAFTS, INSIGHTS, Generation
from pipeline.qa import find_instructions, number_posts, trim_at_sentence
from pipeline.transcript import Transcript, timestamp

__all__ = ["LocalContentProvider", "extract_insights", "compose_draft", "Sentence", "rebuild_sentences"]

# --- Words ----------------------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOPWORDS = _word_set(
    """
    a about above after again against ago all almost also although always am among an and another any anybody
    anyone anything anyway anywhere are around as at away back be became because become been before being
    below better between both but by came can cannot could did do does doing done down during each either
    else enough even ever every everybody everyone everything exactly few find first for from get gets
    getting give given gives go goes going gone gonna good got great had has have having he her here hers
    herself him himself his how however i if in into is it its itself just keep kind know last less let
    like little look lot lots made make makes making many may maybe me mean might mine more most much must
    my myself need needs never new next no nobody none nor not nothing now of off often oh ok okay on once
    one only onto or other others our ours ourselves out over own part people per perhaps please pretty
    probably put quite rather re really right said same say saying says see seem seems several she should
    since so some somebody someone something sometimes somewhere sort start still such sure take takes
    talk tell than thank thanks that the their theirs them themselves then there these they thing things
    think this those though through thus time times to today together too took toward try two um uh under
    until up upon us use used using very via want wanted wants was way we well went were what whatever
    when where whether which while who whole whom whose why will with within without would yeah yes yet
    you your yours yourself yourselves actually basically honestly literally totally definitely simply
    anyway stuff guy guys bit able ask asked call called come comes coming feel felt hear heard help
    keep kept leave left mind move own place point real show shows side sound sounds stay stop sure talk
    talking tell thought three told turn turns word words work works year years day days week weeks
    usually different add added bigger big small smaller hard easy high low long short quick slow important
    minute minutes hour hours second seconds month months happen happened happens end ended ends started
    remember lead full missed whatever ever later least almost instead already enough else nice fine
    """
)

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)*(?:-[A-Za-z0-9]+)*")
_CLAUSE_BREAK = re.compile(r"[,;:.!?()\[\]\"\u201c\u201d\u2026]+|\s[-\u2013\u2014]+\s|[\u2013\u2014]")
_SMALL_TITLE_WORDS = _word_set("a an and as at but by for from in into of on or per the to vs with")


def _stem(word: str) -> str:
    """Fold plurals and possessives so that 'creator', 'creators' and "creator's" count as one."""
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _is_content(token: str) -> bool:
    lowered = token.lower().replace("\u2019", "'")
    if len(lowered) < 3 or not lowered[0].isalpha() or any(ch.isdigit() for ch in lowered):
        return False
    if "'" in lowered and not lowered.endswith("'s"):  # contractions: don't, I'm, you'll
        return False
    return lowered not in _STOPWORDS and _stem(lowered) not in _STOPWORDS


def _content_runs(text: str) -> list[list[str]]:
    """Runs of content words between stop words and punctuation: the raw material of key
    phrases ('batch recording', 'subject line')."""
    runs: list[list[str]] = []
    for clause in _CLAUSE_BREAK.split(_uncapitalize_start(text)):
        run: list[str] = []
        for token in _TOKEN.findall(clause):
            if _is_content(token):
                run.append(token)
            elif run:
                runs.append(run)
                run = []
        if run:
            runs.append(run)
    return runs


def _uncapitalize_start(text: str) -> str:
    """A capital that only marks the start of a sentence is not part of the word."""
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower():
        return text[0].lower() + text[1:]
    return text


def _title_case(phrase: str) -> str:
    words = phrase.split()
    cased = [
        w if not w.islower() or (i and w in _SMALL_TITLE_WORDS) else w[0].upper() + w[1:] for i, w in enumerate(words)
    ]
    return " ".join(cased)


def _join_list(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --- Sentences ------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "vs", "e.g", "i.e", "approx"})


@dataclass
class Sentence:
    """A sentence of the talk, with the time of the cue it starts in and the one it ends in."""

    index: int
    text: str
    start: float
    end: float
    speaker: str | None
    words: int
    terms: Counter = field(default_factory=Counter)  # stems of content words
    phrases: Counter = field(default_factory=Counter)  # tuples of 1-3 stems

    @property
    def is_question(self) -> bool:
        return self.text.rstrip("\"'\u201d\u2019) ").endswith("?")


def _ends_with_abbreviation(text: str) -> bool:
    words = text.split()
    return bool(words) and words[-1].lower().rstrip(".") in _ABBREVIATIONS


def _pieces(text: str) -> list[tuple[str, bool]]:
    """A cue's text cut at sentence ends: (piece, whether the piece ends a sentence)."""
    pieces, begin = [], 0
    for match in _SENTENCE_END.finditer(text):
        if _ends_with_abbreviation(text[begin : match.end()]):
            continue
        pieces.append((text[begin : match.end()].strip(), True))
        begin = match.end()
    rest = text[begin:].strip()
    if rest:
        pieces.append((rest, False))
    return pieces


class _SentenceBuilder:
    """Collects cue text into sentences. A sentence may start in one cue and end in another;
    it keeps the start of the cue it starts in and the end of the cue it ends in."""

    def __init__(self, max_words: int):
        self.max_words = max_words
        self.sentences: list[Sentence] = []
        self._parts: list[str] = []
        self._start = self._end = 0.0
        self._speaker: str | None = None

    def add_cue(self, text: str, start: float, end: float, speaker: str | None) -> None:
        if self._parts and (speaker != self._speaker or self._word_count() >= self.max_words):
            self.close()  # a new speaker, or captions without punctuation running on
        for piece, ends_sentence in _pieces(text):
            if not self._parts:
                self._start, self._speaker = start, speaker
            self._parts.append(piece)
            self._end = end
            if ends_sentence:
                self.close()

    def close(self) -> None:
        if not self._parts:
            return
        text = " ".join(self._parts)
        sentence = Sentence(len(self.sentences), text, self._start, self._end, self._speaker, len(text.split()))
        self.sentences.append(sentence)
        self._parts = []

    def _word_count(self) -> int:
        return sum(len(p.split()) for p in self._parts)


def rebuild_sentences(transcript: Transcript, max_words: int = 60) -> list[Sentence]:
    """Whole sentences from the transcript's cues. A cue without a speaker label continues the
    last labelled speaker: captions name the speaker only when the turn starts."""
    builder = _SentenceBuilder(max_words)
    speaker = None
    for segment in transcript.segments:
        speaker = segment.speaker or speaker
        builder.add_cue(segment.text, segment.start, segment.end, speaker)
    builder.close()
    for sentence in builder.sentences:
        _index_words(sentence)
    return builder.sentences


def _index_words(sentence: Sentence) -> None:
    for run in _content_runs(sentence.text):
        stems = tuple(_stem(w) for w in run)
        sentence.terms.update(stems)
        for n in (1, 2, 3):
            sentence.phrases.update(stems[i : i + n] for i in range(len(stems) - n + 1))


def _sentence_limit(transcript: Transcript, params: dict) -> int:
    """Most words a sentence may run to before it is cut at a cue boundary. Auto-captions often
    have no punctuation at all; there, sentences end at cues after about a quote's length, so
    that quotes and summaries still have units of a readable size."""
    sentence_ends = len(_SENTENCE_END.findall(transcript.text))
    if transcript.word_count / max(sentence_ends, 1) > params["max_sentence_words"]:
        return params["caption_sentence_words"]
    return params["max_sentence_words"]


# --- Corpus statistics ----------------------------------------------------------------------


@dataclass
class _Corpus:
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
        for run in _content_runs(sentence.text):
            stems = [_stem(w) for w in run]
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


def _sum_counters(counters: Iterable[Counter]) -> Counter:
    total: Counter = Counter()
    for counter in counters:
        total.update(counter)
    return total


def _build_corpus(sentences: list[Sentence], window_words: int) -> _Corpus:
    windows = _windows(sentences, window_words)
    window_terms = [_sum_counters(sentences[i].terms for i in window) for window in windows]
    idf = _idf(window_terms)
    totals = _sum_counters(s.terms for s in sentences)
    return _Corpus(
        sentences=sentences,
        surfaces=_surfaces(sentences),
        phrase_totals=_sum_counters(s.phrases for s in sentences),
        term_weights={term: count * idf[term] for term, count in totals.items()},
        window_idf=idf,
        windows=windows,
        total_words=sum(s.words for s in sentences),
    )


def _cosine(a: Counter, b: Counter, idf: dict[str, float]) -> float:
    dot = sum(a[t] * b[t] * idf.get(t, 1.0) ** 2 for t in a if t in b)
    norm_a = math.sqrt(sum((c * idf.get(t, 1.0)) ** 2 for t, c in a.items()))
    norm_b = math.sqrt(sum((c * idf.get(t, 1.0)) ** 2 for t, c in b.items()))
    return dot / (norm_a * norm_b) if norm_a and norm_b else 0.0


def _keyness(count: int, total: int, share: float) -> float:
    """How much more a part of the talk uses a word or phrase than its size predicts."""
    expected = max(total * share, 1e-9)
    return count * math.log(1 + count / expected)


def _ranked_phrases(corpus: _Corpus, indexes: Sequence[int], phrase_bonus: float = 2.0) -> list[tuple[tuple, float]]:
    """Key phrases of a part of the talk, most distinctive first. A phrase of two or three
    words must occur twice to count: once is a coincidence of wording. ``phrase_bonus``
    favours phrases over single words (titles want them more than keyword lists do)."""
    counts = _sum_counters(corpus.sentences[i].phrases for i in indexes)
    share = corpus.words_in(indexes) / max(corpus.total_words, 1)
    ranked = [
        (key, _keyness(count, corpus.phrase_totals[key], share) * (phrase_bonus if len(key) > 1 else 1.0))
        for key, count in counts.items()
        if len(key) == 1 or count >= 2
    ]
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


def _term_keyness(corpus: _Corpus, indexes: Sequence[int]) -> dict[str, float]:
    counts = _sum_counters(corpus.sentences[i].terms for i in indexes)
    share = corpus.words_in(indexes) / max(corpus.total_words, 1)
    return {term: _keyness(count, corpus.phrase_totals[(term,)], share) for term, count in counts.items()}


def _phrase_title(corpus: _Corpus, indexes: Sequence[int], taken: set[str]) -> str:
    """Title of a part of the talk: its most distinctive phrase not used by another part; a
    single word gets its runner-up beside it ('Sponsors and Pricing')."""
    ranked = [key for key, _ in _ranked_phrases(corpus, indexes)]
    for position, key in enumerate(ranked):
        title = _title_case(corpus.display(key))
        if len(key) == 1:
            partner = next((k for k in ranked[position + 1 :] if len(k) == 1 and k[0] not in key), None)
            title = f"{title} and {_title_case(corpus.display(partner))}" if partner else title
        if title.lower() not in taken:
            taken.add(title.lower())
            return title
    return _title_case(corpus.sentences[indexes[0]].text.split(",")[0][:60]) if indexes else "Overview"


# --- Outline: topic segmentation ------------------------------------------------------------


def _outline_size(corpus: _Corpus, params: dict) -> int:
    wanted = round(corpus.total_words / params["words_per_outline_item"])
    wanted = min(max(wanted, params["min_outline"]), params["max_outline"])
    # A short clip cannot hold many parts: each needs some words of its own.
    return max(1, min(wanted, corpus.total_words // params["min_words_per_part"], len(corpus.sentences)))


def _gap_similarities(corpus: _Corpus, span: int) -> list[float]:
    """Similarity of the ``span`` sentences before each gap to the ``span`` after it."""
    sentences = corpus.sentences
    scores = []
    for gap in range(1, len(sentences)):
        before = _sum_counters(s.terms for s in sentences[max(0, gap - span) : gap])
        after = _sum_counters(s.terms for s in sentences[gap : gap + span])
        scores.append(_cosine(before, after, corpus.window_idf))
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


_ORDINALS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|next|last|final"
_NUMBERS = r"one|two|three|four|five|six|seven|eight|nine|ten|\d+"
#: How speakers announce a new part ("Okay, the second part is...", "Segment three is...",
#: "That brings me to...", "Let me wrap up"): the strongest single sign of a topic shift.
_TRANSITION = re.compile(
    r"^(?:(?:so|okay|ok|and|now|alright|all right|right|well)[,.]?\s+)*"
    rf"(?:(?:the\s+)?(?:{_ORDINALS})\s+(?:part|segment|section|step|point|topic|chapter|thing)\b"
    rf"|(?:part|segment|section|step|chapter)\s+(?:{_NUMBERS})\b"
    r"|let's (?:move on|turn to|start with|talk about)|let me (?:wrap|start with|turn to|move on)|moving on"
    r"|(?:that|this) brings (?:me|us) to|to wrap (?:up|things up)|in summary|to sum up"
    r"|open (?:it|things|the floor) up for questions|(?:let's|let me) (?:do|take) (?:some|a few|your) questions)",
    re.IGNORECASE,
)


def _boundary_scores(corpus: _Corpus, span: int) -> list[float]:
    """Depth of each gap, plus the deepest depth again where the next sentence announces a new
    part, so that announced parts win over lexical dips."""
    depths = _depths(_gap_similarities(corpus, span))
    bonus = max(depths, default=0.0)
    announced = [_TRANSITION.search(s.text) is not None for s in corpus.sentences[1:]]
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


def _segment(corpus: _Corpus, parts: int, params: dict) -> list[list[int]]:
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


# --- Representative sentences ---------------------------------------------------------------

_LEADING_FILLER = re.compile(
    r"^(?:(?:so|and|but|well|okay|ok|now|um+|uh+|yeah|anyway|oh|right|honestly|basically|like|you know)\b[,.]?\s+)+",
    re.IGNORECASE,
)


def _tidy(text: str) -> str:
    """A transcript sentence without spoken lead-ins ('So, and ...'), for summaries (quotes
    stay verbatim)."""
    tidied = _LEADING_FILLER.sub("", text).strip()
    return tidied[0].upper() + tidied[1:] if tidied else text


def _is_usable(sentence: Sentence, min_words: int, max_words: int) -> bool:
    """Whether a sentence can stand alone in a summary or as a quote: long enough to say
    something, short enough to read, and not an instruction planted in the transcript."""
    # Swearing is the speaker's voice, left for QA and an editor to judge; an instruction
    # aimed at an AI is never content, so the provider never repeats one.
    if not min_words <= sentence.words <= max_words or sentence.is_question:
        return False
    return not (_is_signpost(sentence.text) or find_instructions(sentence.text))


_SIGNPOST = re.compile(
    r"\b(?:we'll|we will|i'll|i will|i'm going to|we're going to|let me)\s+"
    r"(?:cover|walk you through|show you|talk about|look at)\b",
    re.IGNORECASE,
)


def _is_signpost(text: str) -> bool:
    """Sentences that announce the talk's structure ('the second part is...', 'we'll cover...')
    say where the talk goes, not what it says."""
    return bool(_TRANSITION.search(text) or _PART_NAME.search(text) or _SIGNPOST.search(text))


def _representative(
    corpus: _Corpus, indexes: Sequence[int], weights: dict[str, float], used: set[int], limit: int
) -> list[Sentence]:
    """Up to ``limit`` sentences that best carry ``weights``, in the order they were said."""
    candidates = [corpus.sentences[i] for i in indexes if i not in used]
    usable = [s for s in candidates if _is_usable(s, 8, 40)] or [s for s in candidates if _is_usable(s, 4, 60)]

    def carries(sentence: Sentence) -> float:
        quality = _weakness(sentence) * (1 + _punch(sentence) / 2)
        return quality * sum(weights.get(t, 0.0) for t in sentence.terms) / math.sqrt(sentence.words)

    chosen = sorted(usable, key=lambda s: (-carries(s), s.index))[:limit]
    return sorted(chosen, key=lambda s: s.index)


def _summary_of(sentences: list[Sentence], max_words: int) -> str:
    kept, size = [], 0
    for sentence in sentences:
        if kept and size + sentence.words > max_words:
            break
        kept.append(_tidy(sentence.text))
        size += sentence.words
    return " ".join(kept)


# --- Parts: what each outline part is ---------------------------------------------------

_PART_NAME = re.compile(
    rf"(?:(?:{_ORDINALS})\s+(?:part|segment|section|step|topic|chapter)|(?:part|segment|section|step|chapter)\s+(?:{_NUMBERS}))"
    r"(?:,?\s+which\s+(?:is|are)|\s+is|,|:)\s+(?P<name>[^.,;:!?]{3,60})",
    re.IGNORECASE,
)
_TOPIC_NAME = re.compile(
    r"let's (?:move on to|turn to|start with|talk about)\s+(?P<name>[^.,;:!?]{3,60})", re.IGNORECASE
)
_WRAP_UP = re.compile(r"\b(?:let me wrap|to wrap (?:up|things up)|wrapping up|in summary|to sum up)", re.IGNORECASE)
_QUESTIONS = re.compile(
    r"\b(?:open (?:it|things|the floor) up for questions|(?:do|take) (?:some|a few|your) questions)", re.IGNORECASE
)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an|our|your|my)\s+", re.IGNORECASE)


@dataclass
class _Part:
    """A run of sentences on one topic; ``name`` is what the speaker called it, if they did."""

    indexes: list[int]
    kind: str = "topic"  # "topic", "intro", "questions" or "wrap_up"
    name: str | None = None


def _announced_name(text: str) -> str | None:
    match = _PART_NAME.search(text) or _TOPIC_NAME.search(text)
    return _title_case(_LEADING_ARTICLE.sub("", match.group("name").strip())) if match else None


def _parts(corpus: _Corpus, runs: list[list[int]]) -> list[_Part]:
    """Name each run and tell the talk's frame (introduction, questions, wrap-up) from its
    topics: a run before the first announced part is the introduction."""
    parts = []
    for run in runs:
        first = corpus.sentences[run[0]].text
        kind = "wrap_up" if _WRAP_UP.search(first) else "questions" if _QUESTIONS.search(first) else "topic"
        parts.append(_Part(run, kind, _announced_name(first) if kind == "topic" else None))
    if len(parts) > 1 and parts[0].name is None and any(p.name for p in parts[1:]):
        parts[0].kind = "intro"
    return parts


def _part_title(corpus: _Corpus, part: _Part, prompt: Prompt, taken: set[str]) -> str:
    if part.kind != "topic":
        title = prompt.render(f"{part.kind}_title")
    else:
        title = part.name or _phrase_title(corpus, part.indexes, taken)
    taken.add(title.lower())
    return title


# --- Themes ---------------------------------------------------------------------------------


def _theme_parts(parts: list[_Part], params: dict) -> list[_Part]:
    """The topic parts; the frame (introduction, questions, wrap-up) only when the talk has too
    few topics without it, since it touches every topic and belongs to none."""
    topics = [p for p in parts if p.kind == "topic"]
    return topics if len(topics) >= min(params["min_themes"], len(parts)) else parts


def _group_parts(corpus: _Corpus, parts: list[_Part], params: dict) -> list[list[_Part]]:
    """Merge parts into themes: always down to ``max_themes``, and further while two groups
    share enough vocabulary and more than ``min_themes`` remain."""
    groups = [[p] for p in parts]
    vectors = [_sum_counters(corpus.sentences[i].terms for i in p.indexes) for p in parts]
    while len(groups) > 1:
        similarity, a, b = max(
            (_cosine(vectors[a], vectors[b], corpus.window_idf), -a, -b)
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


def _keywords(corpus: _Corpus, indexes: Sequence[int], count: int) -> list[str]:
    """The most distinctive phrases of a part, skipping a word already inside a chosen phrase."""
    chosen: list[tuple] = []
    for key, _ in _ranked_phrases(corpus, indexes, phrase_bonus=1.2):
        if len(chosen) == count:
            break
        if not any(set(key) <= set(other) or set(other) <= set(key) for other in chosen):
            chosen.append(key)
    shown = [corpus.display(key) for key in chosen]
    return [phrase.lower() if phrase[1:].islower() else phrase for phrase in shown]


def _theme_title(corpus: _Corpus, group: list[_Part], taken: set[str]) -> str:
    """The speaker's names for the parts when they named them, else the group's key phrase."""
    names = list(dict.fromkeys(p.name for p in group if p.name))[:2]
    title = " & ".join(names) if names else _phrase_title(corpus, _indexes(group), taken)
    taken.add(title.lower())
    return title


def _indexes(group: list[_Part]) -> list[int]:
    return sorted(i for part in group for i in part.indexes)


def _theme(corpus: _Corpus, group: list[_Part], title: str, params: dict, used: set[int]) -> Theme:
    indexes = _indexes(group)
    weights = _term_keyness(corpus, indexes)
    chosen = _representative(corpus, indexes, weights, used, params["theme_summary_sentences"])
    used.update(s.index for s in chosen)
    return Theme(
        title=title,
        summary=_summary_of(chosen, params["theme_summary_words"]),
        keywords=_keywords(corpus, indexes, params["theme_keywords"]),
    )


# --- Quotes ---------------------------------------------------------------------------------

#: What makes a line quotable on its own: a contrast ("the plan, not the camera"), an
#: absolute, advice to "you", an imperative. A log of what happened on Tuesday is not.
_CONTRAST = re.compile(
    r", not |; |\bnot\b[^.]*\bbut\b|n't\b[^.]*\bit's\b|\binstead of\b|\brather than\b|\bbeats\b|\bless like\b"
    r"|\b(?:isn't|is not) about\b",
    re.IGNORECASE,
)
_ABSOLUTES = _word_set(
    "never always every nobody everyone nothing everything best worst biggest secret only truth mistake"
)
_IMPERATIVES = _word_set(
    "plan mark track protect stop start write make keep pick ask focus treat remember measure adapt record find "
    "build try use don't never always give take cut say publish post read listen ship show tell skip avoid "
    "choose lead send"
)
_NARRATIVE_START = re.compile(
    r"^(?:on (?:mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?)|over the|then|later|meanwhile"
    r"|for a while|after that|next|finally|at the time|back then|yesterday|last (?:week|month|year))\b",
    re.IGNORECASE,
)
_ORDINAL_START = re.compile(rf"^(?:the\s+)?(?:{_ORDINALS}|another)\b", re.IGNORECASE)
_SPOKEN_FILLER = re.compile(r"\b(?:um+|uh+|erm|you know|i mean|kind of|sort of)\b", re.IGNORECASE)
_DANGLING_START = _word_set("this that it these those they he she which there")


def _information(sentence: Sentence, corpus: _Corpus) -> float:
    """Weighted content words per word: how much of the talk's substance a sentence carries."""
    return sum(corpus.term_weights.get(t, 0.0) for t in set(sentence.terms)) / sentence.words**0.6


def _punch(sentence: Sentence) -> float:
    lowered = sentence.text.lower()
    words = re.findall(r"[a-z']+", lowered)
    punch = 0.4 if _CONTRAST.search(sentence.text) else 0.0
    punch += min(0.3, 0.15 * sum(1 for w in words if w in _ABSOLUTES))
    punch += 0.25 if {"you", "your"} & set(words) and "i" not in words else 0.0
    punch += 0.25 if words and words[0] in _IMPERATIVES else 0.0
    return punch + (0.1 if any(ch.isdigit() for ch in sentence.text) else 0.0)


def _weakness(sentence: Sentence) -> float:
    """Multiplier below 1 for lines that lean on context or trail off into speech habits."""
    text = sentence.text
    first_word = _stem(text.lower().split()[0].strip(",.'\""))
    factor = 0.6 if _SPOKEN_FILLER.search(text) or '"' in text else 1.0
    factor *= 0.6 if first_word in _DANGLING_START or _ORDINAL_START.match(text) else 1.0
    factor *= 0.7 if _NARRATIVE_START.match(text) else 1.0
    return factor * (0.8 if _LEADING_FILLER.match(text) else 1.0)


def _quote_score(sentence: Sentence, information: float, params: dict) -> float:
    """``information`` is relative to the most informative candidate (0-1)."""
    low, high = params["ideal_quote_words"]
    fit = 1.0 if low <= sentence.words <= high else 0.75
    return (0.5 + information) * (1 + _punch(sentence)) * fit * _weakness(sentence)


def _too_similar(sentence: Sentence, chosen: list[Sentence]) -> bool:
    terms = set(sentence.terms)
    return any(len(terms & set(c.terms)) / max(len(terms | set(c.terms)), 1) > 0.4 for c in chosen)


def _select_quotes(
    ranked: list[Sentence], wanted: int, spacing: float, theme_of: dict[int, int], per_theme: int
) -> list[Sentence]:
    """Best first, but spread out: not near another quote in time, not more than ``per_theme``
    from one theme, not saying the same thing. Each pass that comes up short relaxes them."""
    chosen: list[Sentence] = []
    for gap, cap in ((spacing, per_theme), (spacing / 3, per_theme + 1), (0.0, wanted)):
        for sentence in ranked:
            if len(chosen) >= wanted or sentence in chosen or _too_similar(sentence, chosen):
                continue
            same_theme = sum(1 for c in chosen if theme_of.get(c.index) == theme_of.get(sentence.index))
            if same_theme < cap and all(abs(sentence.start - c.start) >= gap for c in chosen):
                chosen.append(sentence)
    return sorted(chosen, key=lambda s: s.index)


def _ranked_quotes(corpus: _Corpus, params: dict, used: set[int]) -> list[Sentence]:
    low, high = params["min_quote_words"], params["max_quote_words"]
    candidates = [s for s in corpus.sentences if s.index not in used and _is_usable(s, low, high)]
    information = {s.index: _information(s, corpus) for s in candidates}
    top = max(information.values(), default=1.0) or 1.0
    return sorted(candidates, key=lambda s: (-_quote_score(s, information[s.index] / top, params), s.index))


def _quotes(corpus: _Corpus, params: dict, theme_of: dict[int, int], themes: list[str], used: set[int]) -> list[Quote]:
    wanted = round(corpus.total_words / params["words_per_quote"])
    wanted = min(max(wanted, params["min_quotes"]), params["max_quotes"])
    duration = corpus.sentences[-1].end - corpus.sentences[0].start
    per_theme = math.ceil(wanted / max(len(themes), 1))
    chosen = _select_quotes(_ranked_quotes(corpus, params, used), wanted, duration / (wanted * 2), theme_of, per_theme)
    used.update(s.index for s in chosen)
    return [
        Quote(
            text=s.text,
            start=s.start,
            end=s.end,
            speaker=s.speaker,
            theme=themes[theme_of[s.index]] if s.index in theme_of else None,
        )
        for s in chosen
    ]


# --- Title and summary ----------------------------------------------------------------------

_ANNOUNCEMENT = re.compile(
    r"\b(?:want to|going to|gonna|will|'ll|\u2019ll|am here to|here to)\s+"
    r"(?:talk(?: to you)? about|walk you through|show you|share|cover)\s+(?P<subject>[^.,;:!?]{8,90}?)"
    # The subject ends with the clause: punctuation, or (in unpunctuated captions) the speaker
    # starting a new one ("...a week of content i'm a solo creator").
    r"(?=\s*[.,;:!?]|\s+(?:i|i'm|we|we're|so|but|because|you|you're)\b|\s*$)",
    re.IGNORECASE,
)


def _announced_subject(corpus: _Corpus) -> str | None:
    """What the speaker says the talk is about ('today I want to talk about X'), if they say it
    near the start."""
    opening = corpus.sentences[: max(3, len(corpus.sentences) // 10)]
    for sentence in opening:
        match = _ANNOUNCEMENT.search(sentence.text)
        if match and 3 <= len(match.group("subject").split()) <= 12:
            return match.group("subject").strip()
    return None


def _main_topic(corpus: _Corpus) -> str:
    """What the talk is about when the speaker never says: the phrase of the first sentences
    whose words recur most widely through the talk ('weekly video podcast'). Square roots
    let a phrase of two telling words beat one very common word."""
    spread: Counter = Counter()
    for window in corpus.windows:
        spread.update({term for i in window for term in corpus.sentences[i].terms})
    opening = _sum_counters(s.phrases for s in corpus.sentences[:5])

    def recurrence(key: tuple) -> float:
        return sum(math.sqrt(spread[w] * corpus.phrase_totals[(w,)]) for w in key)

    if not opening:
        return "this talk"
    return corpus.display(max(opening, key=lambda key: (recurrence(key), key)))


def _sentence_case(title: str) -> str:
    return " ".join(w.lower() if w[1:].islower() else w for w in title.split())


def _pack_title(prompt: Prompt, subject: str | None, topic: str, themes: list[Theme]) -> str:
    if subject:
        return _title_case(prompt.render("title_announced", subject=subject))
    if len(themes) < 2:
        return _title_case(topic)
    return prompt.render(
        "title_topic", topic=_title_case(topic), first_theme=themes[0].title, last_theme=themes[-1].title
    )


def _pack_summary(
    prompt: Prompt, corpus: _Corpus, subject: str | None, topic: str, themes: list[Theme], used: set[int]
) -> str:
    central = _representative(
        corpus, range(len(corpus.sentences)), corpus.term_weights, used, prompt.params["summary_sentences"]
    )
    used.update(s.index for s in central)
    overview = prompt.render(
        "summary",
        subject=(subject or f"the {topic}").rstrip("."),
        themes=_join_list([_sentence_case(t.title) for t in themes]) or topic,
    )
    return " ".join([overview, _summary_of(central, 50)]).strip()


# --- Insights -------------------------------------------------------------------------------


def extract_insights(transcript: Transcript, prompt: Prompt) -> InsightPack:
    """The insight pack of a transcript, with the algorithm parameters of ``prompt``."""
    params = prompt.params
    corpus = _build_corpus(rebuild_sentences(transcript, _sentence_limit(transcript, params)), params["window_words"])
    if not corpus.sentences:
        return InsightPack(title="Untitled", summary="", themes=[], quotes=[], outline=[])
    parts = _parts(corpus, _segment(corpus, _outline_size(corpus, params), params))
    outline = _outline(corpus, parts, prompt)
    groups = sorted(_group_parts(corpus, _theme_parts(parts, params), params), key=lambda g: _indexes(g)[0])
    titles: set[str] = set()
    theme_titles = [_theme_title(corpus, group, titles) for group in groups]
    theme_of = {i: number for number, group in enumerate(groups) for i in _indexes(group)}
    used: set[int] = set()
    # Quotes choose first: a line punchy enough to quote is better quoted than summarised.
    quotes = _quotes(corpus, params, theme_of, theme_titles, used)
    themes = [_theme(corpus, group, title, params, used) for group, title in zip(groups, theme_titles, strict=True)]
    subject, topic = _announced_subject(corpus), _main_topic(corpus)
    title = _pack_title(prompt, subject, topic, themes)
    summary = _pack_summary(prompt, corpus, subject, topic, themes, used)
    return InsightPack(title=title, summary=summary, themes=themes, quotes=quotes, outline=outline)


def _outline(corpus: _Corpus, parts: list[_Part], prompt: Prompt) -> list[OutlineItem]:
    items, taken = [], set()
    for part in parts:
        lead = _representative(corpus, part.indexes, _term_keyness(corpus, part.indexes), set(), 1)
        items.append(
            OutlineItem(
                start=corpus.sentences[part.indexes[0]].start,
                title=_part_title(corpus, part, prompt, taken),
                summary=_tidy(lead[0].text) if lead else "",
            )
        )
    return items


# --- Drafts ---------------------------------------------------------------------------------


def _quoted(quote: Quote) -> str:
    """A quote in double quotes; inner double quotes become single so the quote stays one
    passage (QA compares without punctuation, so it is still the speaker's words)."""
    return '"' + quote.text.replace('"', "'").replace("\u201c", "'").replace("\u201d", "'") + '"'


def _attribution(quote: Quote) -> str:
    speaker = f"{quote.speaker.title()}, " if quote.speaker else ""
    return f"{speaker}{timestamp(quote.start)}"


def _toned(prompt: Prompt, part: str, options: JobOptions, **values: object) -> str:
    """The tone's variant of a template part (``hook_bold``), else the plain part."""
    name = f"{part}_{options.tone}"
    return prompt.render(name if name in prompt.template else part, **values)


def _quotes_by_theme(insights: InsightPack) -> dict[str, list[Quote]]:
    grouped: dict[str, list[Quote]] = {}
    for quote in insights.quotes:
        grouped.setdefault(quote.theme or "", []).append(quote)
    return grouped


def _topic_phrase(insights: InsightPack) -> str:
    """The topic as it reads inside a sentence: 'repurposing one video...' or 'the weekly
    newsletter' (an activity needs no article, a thing does)."""
    topic = _sentence_case(insights.title.split(":")[0])
    return topic if topic.split(" ", 1)[0].endswith("ing") else f"the {topic}"


def _values(insights: InsightPack, options: JobOptions) -> dict[str, object]:
    """Placeholders every draft template may use."""
    return {
        "title": insights.title,
        "summary": insights.summary,
        "topic": insights.title.split(":")[0],
        "topic_lower": _topic_phrase(insights),
        "cta_url": options.cta_url or "",
        "theme_list": _join_list([_sentence_case(t.title) for t in insights.themes]),
    }


def _blocks(*parts: str | None) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip()) + "\n"


def _cta(prompt: Prompt, options: JobOptions, values: dict) -> str | None:
    return _toned(prompt, "cta", options, **values) if options.cta_url else None


def _newsletter(prompt: Prompt, insights: InsightPack, options: JobOptions) -> Draft:
    values = _values(insights, options)
    sections, _ = _theme_sections(insights, prompt.params["quotes_per_section"])
    body = _blocks(
        f"# {insights.title}",
        _toned(prompt, "greeting", options, **values),
        prompt.render("intro", **values),
        *sections[: prompt.params["max_sections"]],
        prompt.render("closing_heading", **values),
        _toned(prompt, "closing", options, **values),
        _cta(prompt, options, values),
    )
    return Draft(format=DraftFormat.NEWSLETTER, title=insights.title, body=body)


def _blockquote(quote: Quote) -> str:
    return f"> {_quoted(quote)} \u2014 {_attribution(quote)}"


def _theme_sections(insights: InsightPack, quotes_per_theme: int) -> tuple[list[str], list[Quote]]:
    """A Markdown section per theme (heading, summary, its first quotes as blockquotes), and the
    quotes it used, so that no quote is printed twice."""
    by_theme = _quotes_by_theme(insights)
    sections, used = [], []
    for theme in insights.themes:
        quotes = by_theme.get(theme.title, [])[:quotes_per_theme]
        used += quotes
        sections.append(_blocks(f"## {theme.title}", theme.summary, *map(_blockquote, quotes)))
    return sections, used


def _blog(prompt: Prompt, insights: InsightPack, options: JobOptions) -> Draft:
    values = _values(insights, options)
    sections, used = _theme_sections(insights, 1)
    remaining = [q for q in insights.quotes if q not in used][: prompt.params["key_quotes"]]
    key_quotes = "\n".join(f"- {_quoted(q)} ({_attribution(q)})" for q in remaining)
    body = _blocks(
        f"# {insights.title}",
        _toned(prompt, "intro", options, **values),
        *sections,
        "## " + prompt.render("key_quotes_heading") if key_quotes else None,
        key_quotes,
        "## " + prompt.render("conclusion_heading"),
        _toned(prompt, "conclusion", options, **values),
        _cta(prompt, options, values),
    )
    return Draft(format=DraftFormat.BLOG, title=insights.title, body=body)


#: Room a post keeps for its ``NN/NN `` number.
_NUMBER_ROOM = 6


def _fit_post(text: str) -> str:
    return trim_at_sentence(text, X_POST_LIMIT - _NUMBER_ROOM)


def _quote_post(quote: Quote) -> str | None:
    """A quote as a post, or None when it cannot fit whole (a quote is never cut)."""
    text = f"{_quoted(quote)} ({_attribution(quote)})"
    return text if len(text) <= X_POST_LIMIT - _NUMBER_ROOM else None


def _x_thread(prompt: Prompt, insights: InsightPack, options: JobOptions) -> Draft:
    values = _values(insights, options)
    hook = _fit_post(_toned(prompt, "hook", options, **values))
    theme_posts = [
        _fit_post(prompt.render("theme_post", theme_title=t.title, theme_summary=t.summary)) for t in insights.themes
    ]
    quote_posts = [p for p in map(_quote_post, insights.quotes) if p][: prompt.params["max_quote_posts"]]
    closing = _cta(prompt, options, values) or _toned(prompt, "closing", options, **values)
    posts = number_posts([hook, *theme_posts, *quote_posts, _fit_post(closing)])
    return Draft(format=DraftFormat.X_THREAD, title=insights.title, body="\n\n".join(posts), posts=posts)


def _hashtag(phrase: str) -> str:
    return "#" + "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", phrase))


def _hashtags(insights: InsightPack, count: int) -> str:
    """Tags from the talk's topic, its short theme titles, then theme keywords; no two alike."""
    topic = insights.title.split(":")[0]
    candidates = [topic] if len(topic.split()) <= 3 else []
    candidates += [t.title for t in insights.themes if len(t.title.split()) <= 2]
    candidates += [k for t in insights.themes for k in t.keywords[:2]]
    tags = list(dict.fromkeys(_hashtag(c) for c in candidates if 1 < len(_hashtag(c)) <= 30))
    return " ".join(tags[:count])


def _top_quote(insights: InsightPack) -> Quote | None:
    """The quote to lead with: the shortest of ten words or more (short lines land hardest)."""
    quotes = [q for q in insights.quotes if len(q.text.split()) >= 10] or insights.quotes
    return min(quotes, key=lambda q: (len(q.text), q.start), default=None)


def _linkedin(prompt: Prompt, insights: InsightPack, options: JobOptions) -> Draft:
    params = prompt.params
    lead = _top_quote(insights) if params["quote_hook"] else None
    values = _values(insights, options) | {"top_quote": _quoted(lead) if lead else insights.title}
    takeaways = [
        prompt.render("takeaway", theme_title=t.title, point=trim_at_sentence(t.summary, 220)) for t in insights.themes
    ]
    body_quotes = [q for q in insights.quotes if q != lead][: params["quotes"]]
    parts = [
        _toned(prompt, "hook", options, **values),
        prompt.render("intro", **values),
        prompt.render("takeaways_heading", **values),
        "\n".join(takeaways[: params["takeaways"]]),
        "\n\n".join(f"{_quoted(q)} ({_attribution(q)})" for q in body_quotes),
        _toned(prompt, "closing", options, **values),
        _cta(prompt, options, values),
        _hashtags(insights, params["hashtags"]),
    ]
    return Draft(format=DraftFormat.LINKEDIN, title=insights.title, body=_fit_linkedin(parts))


def _fit_linkedin(parts: list[str | None]) -> str:
    """Drop the least needed parts (quotes, then takeaways) until the post fits LinkedIn."""
    body = _blocks(*parts).strip()
    for droppable in (4, 3):
        if len(body) <= LINKEDIN_LIMIT:
            break
        parts[droppable] = None
        body = _blocks(*parts).strip()
    return body if len(body) <= LINKEDIN_LIMIT else trim_at_sentence(body, LINKEDIN_LIMIT)


_COMPOSERS = {
    DraftFormat.NEWSLETTER: _newsletter,
    DraftFormat.BLOG: _blog,
    DraftFormat.X_THREAD: _x_thread,
    DraftFormat.LINKEDIN: _linkedin,
}


def compose_draft(fmt: DraftFormat, insights: InsightPack, options: JobOptions, prompt: Prompt) -> Draft:
    return _COMPOSERS[DraftFormat(fmt)](prompt, insights, options)


# --- Provider -------------------------------------------------------------------------------


def _tokens(words: int) -> int:
    return round(words * defaults.TOKENS_PER_WORD)


class LocalContentProvider:
    """Insights and drafts without a network or a model: extractive and template-based."""

    name = "local"
    capabilities = frozenset({INSIGHTS, DRAFTS})

    def __init__(self, model: str = "extractive-v1"):
        self.model = model

    @staticmethod
    def prompt_name(task: str) -> str | None:
        """The prompt file read for a task; None for ``qa_judge`` (this provider has no judge)."""
        if task == "insights":
            return "local_insights"
        if task.startswith("draft:"):
            return f"local_draft_{DraftFormat(task.removeprefix('draft:')).value}"
        return None

    def insights(
        self, transcript: Transcript, options: JobOptions, *, prompt_version: str | None = None
    ) -> Generation[InsightPack]:
        started = time.perf_counter()
        prompt = load_prompt("local_insights", prompt_version)
        pack = extract_insights(transcript, prompt)
        return Generation(pack, self._provenance(prompt, started, transcript.word_count, _pack_words(pack)))

    def draft(
        self,
        fmt: DraftFormat,
        transcript: Transcript,
        insights: InsightPack,
        options: JobOptions,
        *,
        prompt_version: str | None = None,
    ) -> Generation[Draft]:
        started = time.perf_counter()
        prompt = load_prompt(f"local_draft_{DraftFormat(fmt).value}", prompt_version)
        draft = compose_draft(fmt, insights, options, prompt)
        return Generation(draft, self._provenance(prompt, started, _pack_words(insights), len(draft.text().split())))

    def judge(
        self, draft: Draft, transcript: Transcript, *, prompt_version: str | None = None
    ) -> Generation[list[JudgeScore]]:
        """The local provider has no judge (no JUDGE capability): no scores, so QA relies on
        its rule checks alone."""
        return Generation([], Provenance(provider=self.name, model=self.model))

    def _provenance(self, prompt: Prompt, started: float, words_in: int, words_out: int) -> Provenance:
        return Provenance(
            provider=self.name,
            model=self.model,
            prompt_name=prompt.name,
            prompt_version=prompt.version,
            tokens_in=_tokens(words_in),
            tokens_out=_tokens(words_out),
            cost_usd=0.0,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )


def _pack_words(pack: InsightPack) -> int:
    texts = [pack.title, pack.summary]
    texts += [f"{t.title} {t.summary} {' '.join(t.keywords)}" for t in pack.themes]
    texts += [q.text for q in pack.quotes] + [f"{o.title} {o.summary}" for o in pack.outline]
    return sum(len(text.split()) for text in texts)
