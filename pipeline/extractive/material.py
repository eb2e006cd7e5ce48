"""What the offline composers build drafts from: the speaker's own lines, ranked and shared out.

Every draft of a job is composed separately, yet they must not repeat each other (a newsletter
and a blog that share most of their sentences are one draft twice). So the material is built
the same way for every format, deterministically, and its lines are *allocated* once, in a fixed
order, to named slots; each format takes the slots its shape needs:

- ``quotes``: the insight pack's quotes, best first (never used as plain lines);
- ``leads``: the strongest stand-alone line of each theme;
- ``summary``, ``overview``, ``opening``: the talk's most central lines, and its strongest
  opening lines;
- ``takeaways``, ``shorts`` and ``details``: a second, third and fourth line per theme (shorts
  fit a post; details lengthen a long talk's newsletter items);
- ``closing``: the strongest line of the talk's end;
- ``sections``: everything left, per outline part, in the order it was said (long form);
- ``story``: when a creator asked to lead with the story, the talk's most story-like passage,
  claimed right after the quotes so that no other slot repeats it.

A creator who asked for a more technical draft (``prefer_technical``; see
:mod:`pipeline.extractive.instruction`) gets lines with numbers and technical terms ranked
higher, and the slots the format reads (``claim_first``, from its spec) claimed before the
others, so that they get those lines rather than a slot the format never shows. That draft may
then share a line with another draft of the job; QA's cross-format check says so.

A line is *stand-alone* when it does not lean on what came before ("This is why...") and
carries nothing untrusted; only stand-alone lines go to the slots a reader sees out of context.
Whose talk it is decides how a line is shown (:meth:`Material.say`): the creator's own words
are prose; someone else's are quoted and attributed, always.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.extractive.corpus import Corpus, build_corpus, cosine, sum_counters
from pipeline.extractive.instruction import story_cues, technical_terms
from pipeline.extractive.quotes import span_terms
from pipeline.extractive.sentences import Sentence, is_usable, punch, rebuild_sentences, tidy, weakness
from pipeline.models import InsightPack, Quote, Transcript, VoiceProfile
from pipeline.numbers import claims_in, unsourced_statistics
from pipeline.text import find_links, find_profanity, normalize_text
from pipeline.text import sentences as sentences_of
from pipeline.transcript import timestamp
from pipeline.words import STOPWORDS, content_runs, stem, word_set

if TYPE_CHECKING:  # options name formats; a format takes them only as a parameter
    from pipeline.options import JobOptions

__all__ = ["Line", "Theme", "Section", "Material"]

#: Words a line may have to stand in a draft: shorter says too little, longer reads as a wall.
LINE_WORDS = (6, 45)
#: A line in a slot a reader sees out of context may lean on what came before this little.
STANDALONE = 0.95
#: A line this short says little alone ("I keep the best five or six."): in a passage it only
#: comes after the line it follows.
PASSAGE_MIN_WORDS = 9
#: A talk this long gets longer newsletter items (a second line each).
LONG_TALK_WORDS = 4000
#: Characters a line may have to be a post of its own in a thread.
SHORT_LINE_CHARS = 240
#: Times a word (or two-word phrase) is said before it can be a hashtag.
HASHTAG_MIN_USES = 3
#: The slots, in the order they claim lines (the quotes, and the story when asked for, first).
SLOTS = ("opening", "lead", "summary", "overview", "takeaway", "short", "detail", "closing", "sections")
#: How much each number or technical term (up to three) raises a line's rank in a draft asked
#: to be more technical.
TECHNICAL_BOOST = 0.75


@dataclass(frozen=True)
class Line:
    """One of the speaker's lines, verbatim, with where it was said."""

    text: str
    start: float
    speaker: str | None = None
    index: int = -1  # the sentence it comes from (-1: a quote found nowhere in the sentences)

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def clock(self) -> str:
        return timestamp(self.start)


@dataclass
class Theme:
    title: str
    lead: Line | None = None
    takeaway: Line | None = None
    short: Line | None = None
    detail: Line | None = None  # a further line, for long talks' longer items
    quote: Line | None = None


@dataclass
class Section:
    """An outline part with the lines left for long-form drafts, in the order they were said."""

    title: str
    start: float
    kind_of_frame: bool  # the introduction, questions or wrap-up rather than a topic
    lines: list[Line] = field(default_factory=list)
    words: int = 0  # words the part holds in the talk


_FRAME_TITLES = re.compile(r"^(?:introduction|intro|audience questions|questions|wrap-up|wrap up|conclusion)$", re.I)


class Material:
    """The lines of one talk, allocated to slots (see the module docstring)."""

    def __init__(
        self,
        transcript: Transcript,
        insights: InsightPack,
        options: JobOptions,
        voice: VoiceProfile | None = None,
        params: dict | None = None,
    ):
        self.insights, self.options = insights, options
        #: A prompt version may keep quotes that hold a statistic the speaker never sources (to
        #: compare with one that leaves them out; QA flags them either way).
        self._keep_unsourced = bool((params or {}).get("quote_unsourced_statistics", False))
        self._technical = bool((params or {}).get("prefer_technical", False))
        self.voice = voice or VoiceProfile()
        self.title = insights.title
        self.speaker = options.speaker
        self.source_words = transcript.word_count
        self.duration = transcript.duration
        sentences = rebuild_sentences(transcript)
        # A percentage the speaker never sources is not something a draft should repeat.
        self._unsourced = unsourced_statistics([s.text for s in sentences])
        labels = list(dict.fromkeys(s.speaker for s in sentences if s.speaker))
        #: In a conversation the creator is the first voice (the host); the others are quoted.
        self.host = labels[0] if len(labels) > 1 else None
        self._corpus = build_corpus(sentences, 120)
        self._claimed: set[int] = set()
        self.quotes = self._quotes(insights.quotes, sentences)
        self._claimed |= {q.index for q in self.quotes}
        self.story = self._claim_story() if (params or {}).get("lead_with_story") else []
        self._parts = self._parts_of(insights, sentences)
        self.themes = self._themes(insights)
        first = [slot for slot in (params or {}).get("claim_first") or () if slot in SLOTS] if self._technical else []
        for slot in [*first, *(slot for slot in SLOTS if slot not in first)]:
            self._claim_slot(slot, insights)

    def _claim_slot(self, slot: str, insights: InsightPack) -> None:
        if slot == "opening":
            self.opening = self._claim_opening()
        elif slot == "summary":
            self.summary = self._claim_summary(insights.summary, 3)
        elif slot == "overview":
            self.overview = self._claim_central(min(2 + self.source_words // 4000, 4))  # longer talks say more
        elif slot == "closing":
            self.closing = self._claim_closing()
        elif slot == "sections":
            self.sections = self._sections(insights)
        elif slot != "detail" or self.source_words >= LONG_TALK_WORDS:  # only long talks' items take a second line
            self._claim_per_theme(slot)

    # --- how lines are shown ---------------------------------------------------------------

    @property
    def own_talk(self) -> bool:
        return self.speaker is None

    @property
    def speaker_short(self) -> str | None:
        """The speaker's surname (the name after the first mention)."""
        return self.speaker.split()[-1] if self.speaker else None

    def is_creators(self, line: Line) -> bool:
        """Whether a line is the creator's own words: their talk, and (in a conversation) said
        by the host rather than a guest."""
        return self.own_talk and (self.host is None or line.speaker in (None, self.host))

    def who_said(self, line: Line) -> str | None:
        """How a line that is not the creator's is credited: the speaker the job names, else the
        label the transcript gives ("Guest")."""
        if not self.own_talk:
            return self.speaker
        return line.speaker.title() if line.speaker else None

    def say(self, line: Line, *, attribute: bool = False, clock: bool = False) -> str:
        """A line as a draft shows it: the creator's own words as prose; anyone else's in
        quotes, attributed (always for a guest; for the job's speaker when ``attribute``, once
        their name is given) and timed when ``clock``."""
        if self.is_creators(line):
            text = tidy(line.text)
            return f"{text} ({line.clock})" if clock else text
        quoted = quote_marks(line.text)
        who = self.who_said(line) if attribute or self.own_talk else None
        tail = ", ".join(part for part in (who, line.clock if clock else None) if part)
        return f"{quoted} \u2014 {tail}" if tail else quoted

    def said(self, lines: Sequence[Line]) -> str:
        """Lines as one passage: the creator's own as prose; anyone else's as quotations, one per
        speaker in turn (abridged with an ellipsis where lines were left out between them)."""
        runs: list[list[Line]] = []
        for line in lines:
            if runs and runs[-1][0].speaker == line.speaker and self.is_creators(runs[-1][0]) == self.is_creators(line):
                runs[-1].append(line)
            else:
                runs.append([line])
        return " ".join(self._run_text(run) for run in runs)

    def _run_text(self, run: list[Line]) -> str:
        if self.is_creators(run[0]):
            return " ".join(tidy(line.text) for line in run)
        pieces = [run[0].text]
        for before, line in zip(run, run[1:], strict=False):
            pieces.append(("... " if line.index != before.index + 1 else "") + line.text)
        quoted = quote_marks(" ".join(pieces))
        who = self.who_said(run[0]) if self.own_talk else None
        return f"{quoted} \u2014 {who}" if who else quoted

    # --- building --------------------------------------------------------------------------

    def _quotes(self, quotes: list[Quote], sentences: list[Sentence]) -> list[Line]:
        lines = []
        for quote in quotes:
            if not self._publishable(quote.text):
                continue
            key = normalize_text(quote.text)
            found = next((s for s in sentences if key and key in normalize_text(s.text)), None)
            index = found.index if found else -1
            lines.append(Line(quote.text, quote.start, quote.speaker, index))
        return lines

    def _usable(self, sentence: Sentence) -> bool:
        low, high = LINE_WORDS
        # Swearing stays in the transcript and the insight pack (the speaker's voice); a draft
        # meant to be published after light edits leaves it out, and the workspace's avoid-list too.
        return is_usable(sentence, low, high) and self._publishable(sentence.text)

    def _publishable(self, text: str) -> bool:
        """Not a line to publish: one the workspace avoids, with swearing, or with a statistic the
        speaker gives no source for."""
        avoided = any(p.lower() in text.lower() for p in self.voice.avoid_phrases)
        unsourced = not self._keep_unsourced and any(
            c.is_percentage and c.value in self._unsourced for c in claims_in(text)
        )
        return not (avoided or unsourced or find_profanity(text))

    def _strength(self, sentence: Sentence) -> float:
        weights = self._corpus.term_weights
        information = sum(weights.get(t, 0.0) for t in set(sentence.terms)) / sentence.words**0.6
        boost = 1.0 + _tone_boost(sentence.text, self.options.tone)
        if self._technical:
            boost *= 1 + TECHNICAL_BOOST * min(technical_terms(sentence.text), 3)
        return (1 + information / 10) * (1 + punch(sentence.text)) * weakness(sentence.text) * boost

    def _parts_of(self, insights: InsightPack, sentences: list[Sentence]) -> list[tuple[int, list[Sentence]]]:
        """(outline item number, its sentences) for each outline item."""
        starts = [item.start for item in insights.outline] or [0.0]
        parts: list[tuple[int, list[Sentence]]] = [(i, []) for i in range(len(starts))]
        for sentence in sentences:
            number = max((i for i, start in enumerate(starts) if start <= sentence.start + 0.01), default=0)
            parts[number][1].append(sentence)
        return parts

    def _ranked(self, sentences: Sequence[Sentence], *, standalone: bool) -> list[Sentence]:
        pool = [s for s in sentences if s.index not in self._claimed and self._usable(s)]
        if standalone:
            pool = [s for s in pool if weakness(s.text) >= STANDALONE]
        return sorted(pool, key=lambda s: (-self._strength(s), s.index))

    def _claim(
        self, sentences: Sequence[Sentence], *, standalone: bool = True, chars: int | None = None
    ) -> Line | None:
        for sentence in self._ranked(sentences, standalone=standalone):
            if chars is None or len(tidy(sentence.text)) <= chars:
                self._claimed.add(sentence.index)
                return Line(sentence.text, sentence.start, sentence.speaker, sentence.index)
        return None

    def _part_of(self, text: str) -> int | None:
        """The outline part a piece of the talk was said in."""
        key = normalize_text(text)
        for number, sentences in self._parts:
            if key and any(key in normalize_text(s.text) or normalize_text(s.text) in key for s in sentences):
                return number
        return None

    def _theme_of_part(self, insights: InsightPack) -> dict[int, int]:
        """Outline part -> theme: where a theme's quotes and summary lines were said; a topic part
        nothing points at goes to the theme whose words it shares most. The frame (introduction,
        wrap-up, questions) belongs to no theme unless the pack says so."""
        votes: dict[int, Counter] = {}
        for number, theme in enumerate(insights.themes):
            pieces = [q.text for q in insights.quotes if q.theme == theme.title] + sentences_of(theme.summary)
            for piece in pieces:
                part = self._part_of(piece)
                if part is not None:
                    votes.setdefault(part, Counter())[number] += 1
        mapping = {part: counts.most_common(1)[0][0] for part, counts in votes.items()}
        vectors = [span_terms(f"{t.title} {t.summary} {' '.join(t.keywords)}") for t in insights.themes]
        for number, sentences in self._parts:
            item = insights.outline[number] if number < len(insights.outline) else None
            if number in mapping or not vectors or not sentences or (item and _FRAME_TITLES.match(item.title)):
                continue
            terms = sum_counters(s.terms for s in sentences)
            scores = [cosine(terms, vector, self._corpus.window_idf) for vector in vectors]
            mapping[number] = scores.index(max(scores))
        return mapping

    def _theme_sentences(self, insights: InsightPack) -> list[list[Sentence]]:
        mapping = self._theme_of_part(insights)
        grouped: list[list[Sentence]] = [[] for _ in insights.themes]
        for number, sentences in self._parts:
            if number in mapping:
                grouped[mapping[number]].extend(sentences)
        return grouped

    def _themes(self, insights: InsightPack) -> list[Theme]:
        self._by_theme = self._theme_sentences(insights)
        themes = []
        for theme in insights.themes:
            themed = {q.text for q in insights.quotes if q.theme == theme.title}
            quote = next((q for q in self.quotes if q.text in themed), None)
            themes.append(Theme(title=theme.title, quote=quote))
        return themes

    def _claim_per_theme(self, slot: str) -> None:
        for theme, sentences in zip(self.themes, self._by_theme, strict=True):
            chars = SHORT_LINE_CHARS if slot == "short" else None
            setattr(theme, slot, self._claim(sentences, chars=chars))

    def _claim_central(self, count: int) -> list[Line]:
        lines = []
        for _ in range(count):
            line = self._claim(self._corpus.sentences)
            if line is None:
                break
            lines.append(line)
        return sorted(lines, key=lambda line: line.start)

    def _claim_summary(self, summary: str, count: int) -> list[Line]:
        """The transcript's lines that the pack's summary is made of (an extractive pack's summary
        is the talk's most central lines); the strongest central lines otherwise."""
        said = normalize_text(summary)
        lines = []
        for sentence in self._corpus.sentences:
            key = normalize_text(tidy(sentence.text))
            if len(lines) < count and key and key in said and sentence.index not in self._claimed:
                self._claimed.add(sentence.index)
                lines.append(Line(sentence.text, sentence.start, sentence.speaker, sentence.index))
        return lines or self._claim_central(min(count, 2))

    def _claim_opening(self) -> list[Line]:
        """The strongest stand-alone line of the talk's first part, and the line after it when
        that one goes on with the same story ("Two years ago... Today...")."""
        first = self._parts[0][1] if self._parts else []
        line = self._claim(first) or self._claim(self._corpus.sentences)
        if line is None:
            return []
        after = [s for s in self._corpus.sentences if s.index == line.index + 1]
        follow = self._claim(after, standalone=False) if after and after[0].index not in self._claimed else None
        return [line, follow] if follow else [line]

    def _claim_story(self) -> list[Line]:
        """The most story-like stand-alone line of the talk ("Two years ago I was..."), and the
        line after it when that one goes on with the story; none when nothing reads like one."""
        told = [s for s in self._ranked(self._corpus.sentences, standalone=True) if story_cues(s.text)]
        if not told:
            return []
        best = max(told, key=lambda s: (story_cues(s.text), self._strength(s)))
        self._claimed.add(best.index)
        lines = [Line(best.text, best.start, best.speaker, best.index)]
        after = [s for s in self._corpus.sentences if s.index == best.index + 1 and s.index not in self._claimed]
        if after and self._usable(after[0]) and _goes_on(after[0].text):
            self._claimed.add(after[0].index)
            lines.append(Line(after[0].text, after[0].start, after[0].speaker, after[0].index))
        return lines

    def _claim_closing(self) -> Line | None:
        last = self._parts[-1][1] if self._parts else []
        return self._claim(last)

    def _sections(self, insights: InsightPack) -> list[Section]:
        sections = []
        for (_, sentences), item in zip(self._parts, insights.outline or [None], strict=False):
            if item is None:
                continue
            section = Section(item.title, item.start, bool(_FRAME_TITLES.match(item.title)))
            section.words = sum(s.words for s in sentences)
            section.lines = [
                Line(s.text, s.start, s.speaker, s.index) for s in self._ranked(sentences, standalone=False)
            ]
            sections.append(section)
        return sections

    # --- what a composer asks for --------------------------------------------------------------

    def passage(self, section: Section, count: int) -> list[Line]:
        """The ``count`` strongest lines of a section (the most technical first, in a draft asked
        to be more technical), in the order they were said; a line that leans on the one before
        it only comes with that one."""
        chosen: list[Line] = []
        for line in self._preferred(section.lines):  # strongest first
            if len(chosen) >= count:
                break
            leans = weakness(line.text) < STANDALONE or line.words < PASSAGE_MIN_WORDS
            if not leans or any(other.index == line.index - 1 for other in chosen):
                chosen.append(line)
        return sorted(chosen, key=lambda line: line.index)

    def theme_line(self, theme: Theme, *slots: str) -> Line | None:
        """The theme's first line among ``slots`` (``lead``, ``takeaway``, ``short``, ``quote``);
        a short talk has few lines, so a format falls back to the next slot it names. The best
        quote of the talk is never one: formats lead with it already. A draft asked to be more
        technical takes the slot whose line carries the most numbers and technical terms."""
        top = self.top_quote()
        lines = [line for slot in slots if (line := getattr(theme, slot)) is not None and line != top]
        return self._preferred(lines)[0] if lines else None

    def _preferred(self, lines: Sequence[Line]) -> list[Line]:
        """``lines`` in the order a format should choose among them: as given, or, in a draft
        asked to be more technical, those with the most numbers and technical terms first.
        Which lines each slot holds stays the same, so drafts still do not repeat each other."""
        if not self._technical:
            return list(lines)
        return sorted(lines, key=lambda line: -min(technical_terms(line.text), 3))  # stable: equals keep their order

    def top_quote(self) -> Line | None:
        return self.quotes[0] if self.quotes else None

    def quote_in(self, section: Section, used: set[str]) -> Line | None:
        """The best quote said inside ``section`` and not yet in ``used`` (quote texts)."""
        end = next((s.start for s in self.sections if s.start > section.start), float("inf"))
        return next((q for q in self.quotes if section.start <= q.start < end and q.text not in used), None)

    def cta_line(self, templates: dict[str, str]) -> str | None:
        """The call to action: the job's link in the prompt's words (``cta``, or the tone's
        ``cta_<tone>``), else the workspace's default call to action."""
        if self.options.cta_url:
            template = templates.get("cta") or templates.get(f"cta_{self.options.tone}") or "{cta_url}"
            return template.replace("{cta_url}", self.options.cta_url)
        return self.voice.default_cta or None

    def hashtags(self, most: int) -> list[str]:
        """Hashtags by the workspace's policy: none, its fixed list, or the talk's own words said
        at least HASHTAG_MIN_USES times (real words, CamelCased when two)."""
        policy, limit = self.voice.hashtag_policy, min(most, self.voice.max_hashtags)
        if policy == "none" or limit <= 0:
            return []
        if policy == "fixed":
            return self.voice.hashtags[:limit]
        return _talk_hashtags(self._corpus, self.insights, limit)

    def sign_off(self) -> str | None:
        return self.voice.sign_off or None

    def greeting(self) -> str | None:
        """The workspace's first phrase to use, when it is short enough to open with."""
        phrases = [p for p in self.voice.use_phrases if len(p.split()) <= 8]
        return phrases[0] if phrases else None

    def allowed_links(self) -> list[str]:
        links = [self.options.cta_url] if self.options.cta_url else []
        return links + find_links(self.voice.default_cta or "") + find_links(self.voice.sign_off or "")


_GOES_ON = re.compile(r"^(?:today|now|then|so|since then|after that|that's when|that was when)\b", re.I)


def _goes_on(text: str) -> bool:
    """Whether a line carries on the story of the line before it ("Today I publish...")."""
    return bool(story_cues(text) or _GOES_ON.match(text) or weakness(text) < STANDALONE)


def quote_marks(text: str) -> str:
    """Text in double quotes; inner double quotes become single so it stays one passage."""
    inner = text.replace('"', "'").replace("\u201c", "'").replace("\u201d", "'")
    return f"\u201c{inner}\u201d"


def _tone_boost(text: str, tone: str) -> float:
    """Bold drafts favour imperatives and absolutes; professional ones avoid spoken asides;
    friendly ones favour lines that speak to "you"."""
    words = re.findall(r"[a-z']+", text.lower())
    if tone == "bold":
        return 0.3 if words and words[0] in _COMMANDS or {"never", "always", "every"} & set(words) else 0.0
    if tone == "professional":
        return -0.3 if {"honestly", "basically", "literally", "gonna", "stuff"} & set(words) else 0.0
    return 0.2 if {"you", "your"} & set(words) else 0.0


_COMMANDS = word_set("plan mark track protect stop start write make keep pick ask focus measure find build try use")


def _talk_hashtags(corpus: Corpus, insights: InsightPack, limit: int) -> list[str]:
    """Theme keywords that are real words said often: ``#Newsletter``, ``#BatchRecording``."""
    uses = sum_counters(s.phrases for s in corpus.sentences)
    tags = []
    for keyword in (k for theme in insights.themes for k in theme.keywords):
        words = [w for run in content_runs(keyword) for w in run]
        key = tuple(stem(w) for w in words)
        if not 1 <= len(words) <= 2 or uses[key] < HASHTAG_MIN_USES:
            continue
        if any(not _tag_word(w) for w in words) or (len(words) == 1 and uses[key] < HASHTAG_MIN_USES + 1):
            continue
        tags.append((len(words) == 1, "#" + "".join(w[:1].upper() + w[1:].lower() for w in words)))
    ordered = [tag for _, tag in sorted(tags, key=lambda item: item[0])]  # phrases before single words
    return list(dict.fromkeys(ordered))[:limit]


#: Words that are actions rather than subjects: a hashtag names a subject.
_ACTION_WORDS = word_set(
    "record plan make use track write post choose send keep start stop pick build try find cut edit share publish "
    "read listen watch ask tell give take mark measure adapt grow learn move note section piece example idea "
    "kind sort number lot bit case fact single whole same real best better good great simple clear quick full free "
    "whole"
)


def _tag_word(word: str) -> bool:
    lowered = word.lower()
    return (
        len(lowered) >= 3
        and lowered.isalpha()
        and lowered not in STOPWORDS
        and lowered not in _ACTION_WORDS
        and not lowered.endswith(("ly", "ed"))
    )
