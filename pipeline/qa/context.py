"""What QA compares a draft with: the transcript (its words, numbers, links and unsourced
statistics), the job's options (whose talk, the call to action), the workspace's voice profile,
the insight pack's top quotes and the job's other drafts. Built once per job, read by every check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.models import Draft, InsightPack, Transcript, VoiceProfile
from pipeline.numbers import numbers_said, unsourced_statistics
from pipeline.options import JobOptions
from pipeline.text import find_links, normalize_text, sentences
from pipeline.untrusted import find_instructions

__all__ = ["Context", "link_key", "TOP_QUOTES"]

#: The insight pack's quotes a draft is measured against: its best ones.
TOP_QUOTES = 3


def link_key(link: str) -> str:
    """A link as compared: no scheme, no www., no trailing slash, lower case."""
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", link.strip().lower()).rstrip("/.")


@dataclass(frozen=True)
class Context:
    transcript_text: str  # normalised, padded with spaces so that matches fall on word boundaries
    transcript_numbers: frozenset[str]
    unsourced_statistics: frozenset[str]
    transcript_links: frozenset[str]  # link keys the speaker said
    creator_links: frozenset[str]  # link keys the creator supplied (call to action, voice profile)
    cta: str | None  # what must appear: the job's link, else the voice's default CTA link (or line)
    speaker: str | None  # None: the creator's own talk
    voice: VoiceProfile
    source_words: int
    duration: float
    top_quotes: tuple[str, ...] = ()
    siblings: dict[str, Draft] = field(default_factory=dict)  # the job's other drafts, by format

    @classmethod
    def build(
        cls,
        transcript: Transcript,
        options: JobOptions | None = None,
        *,
        voice: VoiceProfile | None = None,
        insights: InsightPack | None = None,
        siblings: dict[str, Draft] | None = None,
    ) -> Context:
        options, voice = options or JobOptions(), voice or VoiceProfile()
        # Numbers said only inside an injected instruction are not the speaker's claims.
        spoken = [s for s in sentences(transcript.text) if not find_instructions(s)]
        voice_links = find_links(voice.default_cta or "") + find_links(voice.sign_off or "")
        creator = [options.cta_url] if options.cta_url else []
        return cls(
            transcript_text=f" {normalize_text(transcript.text)} ",
            transcript_numbers=frozenset(numbers_said(" ".join(spoken))),
            unsourced_statistics=frozenset(unsourced_statistics(spoken)),
            transcript_links=frozenset(link_key(link) for link in find_links(transcript.text)),
            creator_links=frozenset(link_key(link) for link in creator + voice_links),
            cta=options.cta_url or (voice_links[0] if voice_links else voice.default_cta or None),
            speaker=options.speaker,
            voice=voice,
            source_words=transcript.word_count,
            duration=transcript.duration,
            top_quotes=tuple(q.text for q in (insights.quotes[:TOP_QUOTES] if insights else [])),
            siblings=dict(siblings or {}),
        )

    def said(self, text: str) -> bool:
        """Whether ``text`` is the speaker's words (in the form quotes are compared in)."""
        key = normalize_text(text)
        return bool(key) and f" {key} " in self.transcript_text
