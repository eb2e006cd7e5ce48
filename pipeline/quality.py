"""How well QA tells good drafts from bad ones, and how the offline drafts measure up.

- :func:`evaluate_qa` runs QA's checks (as on an editor's text: no fixes, no judge) over the
  labelled set in ``data/evaluation/qa_eval.json`` — good drafts, and drafts with one defect
  seeded in, each with the check that must flag it — and reports *recall* (seeded defects
  flagged by their check) and the *false-flag rate* (good drafts any check flags).
- :func:`draft_figures` measures the drafts a provider makes for transcripts: quotes grounded
  (verbatim, timed by the cue they start in), platform limits kept, how many sentences two
  formats that cover the same ground share (a spec's ``distinct_from``: the newsletter and the
  blog post), and how many of a job's draft sentences turn up in the
  drafts of other jobs (fixed phrases that every job repeats).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import formats, qa
from pipeline.models import Draft, InsightPack, Quote, Transcript, VoiceProfile
from pipeline.options import JobOptions
from pipeline.qa.reading import sentence_keys
from pipeline.transcript import parse_transcript

__all__ = ["EVAL_SET", "QAEvaluation", "evaluate_qa", "DraftFigures", "draft_figures"]

EVAL_SET = Path(__file__).resolve().parent.parent / "data" / "evaluation" / "qa_eval.json"


@dataclass
class QAEvaluation:
    good: int = 0
    false_flags: list[tuple[str, list[str]]] = field(default_factory=list)  # (item, checks that failed)
    seeded: Counter = field(default_factory=Counter)  # defect kind -> items
    caught: Counter = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(sum(self.seeded.values()), 1)

    @property
    def false_flag_rate(self) -> float:
        return len(self.false_flags) / max(self.good, 1)


def _job_context(job: dict) -> dict:
    transcript = parse_transcript(job["transcript_srt"], "eval.srt")
    quotes = [Quote(text=text, start=0.0, end=0.0) for text in job["top_quotes"]]
    return {
        "transcript": transcript,
        "options": JobOptions(formats=formats.names(), speaker=job["speaker"], cta_url=job["cta_url"]),
        "insights": InsightPack(title="", summary="", themes=[], quotes=quotes, outline=[]),
        "voice": VoiceProfile.model_validate(job["voice"]),
    }


def _failed(item: dict, context: dict) -> list[str]:
    draft = Draft.model_validate(item["draft"])
    siblings = {name: Draft.model_validate(d) for name, d in item["siblings"].items()}
    checks = qa.run_checks(draft, **context, siblings=siblings)
    return [check.name for check in checks if not check.passed]


def evaluate_qa(path: Path = EVAL_SET) -> QAEvaluation:
    data = json.loads(path.read_text(encoding="utf-8"))
    contexts = {job_id: _job_context(job) for job_id, job in data["jobs"].items()}
    result = QAEvaluation()
    for item in data["items"]:
        failed = _failed(item, contexts[item["job"]])
        if not item["expected"]:
            result.good += 1
            if failed:
                result.false_flags.append((item["id"], failed))
            continue
        result.seeded[item["defect"]] += 1
        if set(item["expected"]) <= set(failed):
            result.caught[item["defect"]] += 1
        else:
            result.misses.append(item["id"])
    return result


# --- Drafts against their transcripts -----------------------------------------------------------


@dataclass
class DraftFigures:
    quotes: int = 0
    quotes_grounded: int = 0  # verbatim in the transcript and timed by the cue they start in
    drafts: int = 0
    within_limits: int = 0
    #: (format, the one it must differ from) -> per job, the share of its sentences the other repeats
    pair_shared: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    cross_job_shared: list[float] = field(default_factory=list)  # per job: share of its sentences in other jobs
    words: dict[str, dict[str, int]] = field(default_factory=dict)  # job -> format -> words


def _grounded(quote: Quote, transcript: Transcript) -> bool:
    spoken = f" {qa.normalize_text(transcript.text)} "
    if f" {qa.normalize_text(quote.text)} " not in spoken:
        return False
    first_words = " ".join(qa.normalize_text(quote.text).split()[:3])
    return any(s.start == quote.start and first_words in qa.normalize_text(s.text) for s in transcript.segments)


def _within_limits(draft: Draft) -> bool:
    return next(c for c in qa.run_checks(draft, Transcript(segments=[])) if c.name == "platform_limits").passed


def draft_figures(jobs: Mapping[str, tuple[Transcript, InsightPack, dict[str, Draft]]]) -> DraftFigures:
    """Figures over jobs: name -> (transcript, insight pack, drafts by format)."""
    figures = DraftFigures()
    keys: dict[str, set[str]] = defaultdict(set)
    for name, (transcript, pack, drafts) in jobs.items():
        figures.quotes += len(pack.quotes)
        figures.quotes_grounded += sum(1 for q in pack.quotes if _grounded(q, transcript))
        figures.drafts += len(drafts)
        figures.within_limits += sum(1 for d in drafts.values() if _within_limits(d))
        figures.words[name] = {fmt: len(d.text().split()) for fmt, d in drafts.items()}
        for spec in formats.specs():
            for other in (o for o in spec.distinct_from if spec.name in drafts and o in drafts):
                mine = sentence_keys(drafts[spec.name])
                shared = len(mine & sentence_keys(drafts[other])) / max(len(mine), 1)
                figures.pair_shared[(spec.name, other)].append(shared)
        for draft in drafts.values():
            keys[name] |= sentence_keys(draft)
    for name, mine in keys.items():
        others = set().union(*(k for other, k in keys.items() if other != name))
        figures.cross_job_shared.append(len(mine & others) / max(len(mine), 1))
    return figures
