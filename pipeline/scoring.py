"""How an experiment scores what one prompt version made for one dataset item.

- ``insights``: checks on the pack itself (quotes verbatim and placed where they are said, the
  outline in order and spanning the talk, counts within what the product shows) -> a rule score
  computed as QA computes a draft's.
- ``draft:<format>``: QA's review exactly as the pipeline runs it (rule checks after auto-fix,
  blended with the provider's judge when it has one) -> the QA score; also a judge score and, for
  evaluation items, how close the draft is to the text the editor left.
- ``qa_judge``: each draft of the item reviewed with this judge's scores -> the job's QA score
  (its lowest draft), whether it would go to an editor, and whether that agrees with the editor
  (a rejection means QA was right to flag the job; an approval means it need not have).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline import qa
from pipeline.diffs import text_similarity
from pipeline.models import Draft, InsightPack, JudgeScore, QACheck, Transcript
from pipeline.options import JobOptions

__all__ = ["Score", "insight_checks", "score_insights", "score_draft", "score_judged", "judge_mean"]

#: What the product shows well: themes, quotes and outline parts per pack, words per quote.
EXPECTED_THEMES = (3, 7)
EXPECTED_QUOTES = (5, 10)
EXPECTED_OUTLINE = (3, 10)
QUOTE_WORDS = (6, 40)
#: A quote's time is right when its words are said within this many seconds of it.
QUOTE_TIME_SLACK_S = 30.0


@dataclass
class Score:
    score: int | None
    rule_score: int | None = None
    judge_score: int | None = None
    checks: list[QACheck] = field(default_factory=list)
    risk_flags: list[str] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)


def judge_mean(scores: Sequence[JudgeScore]) -> int | None:
    """The judge's scores as one 0-100 number."""
    return round(10 * sum(s.score for s in scores) / len(scores)) if scores else None


# --- Insights -------------------------------------------------------------------------------


def _check(name: str, severity: str, problem: str | None, ok: str) -> QACheck:
    return QACheck(name=name, passed=problem is None, severity=severity, reason=problem or ok)


def _quotes_verbatim(pack: InsightPack, transcript: Transcript) -> QACheck:
    spoken = f" {qa.normalize_text(transcript.text)} "
    wrong = [q.text for q in pack.quotes if f" {qa.normalize_text(q.text)} " not in spoken]
    problem = f"{len(wrong)} quote(s) are not the speaker's words: {wrong[0][:60]!r}" if wrong else None
    return _check("quotes_verbatim", "risk", problem, "every quote is word for word in the transcript")


def _said_near(transcript: Transcript, text: str, start: float, end: float) -> bool:
    nearby = [
        s.text
        for s in transcript.segments
        if s.end >= start - QUOTE_TIME_SLACK_S and s.start <= end + QUOTE_TIME_SLACK_S
    ]
    return qa.normalize_text(text) in qa.normalize_text(" ".join(nearby))


def _quotes_placed(pack: InsightPack, transcript: Transcript) -> QACheck:
    misplaced = [q for q in pack.quotes if not _said_near(transcript, q.text, q.start, q.end)]
    problem = f"{len(misplaced)} quote(s) carry a time where they are not said" if misplaced else None
    return _check("quotes_placed", "warning", problem, "every quote's time is where it is said")


def _outside(count: int, bounds: tuple[int, int]) -> bool:
    return not bounds[0] <= count <= bounds[1]


def _counts(pack: InsightPack) -> QACheck:
    found = {
        "themes": (len(pack.themes), EXPECTED_THEMES),
        "quotes": (len(pack.quotes), EXPECTED_QUOTES),
        "outline parts": (len(pack.outline), EXPECTED_OUTLINE),
    }
    off = [f"{n} {name} (expected {lo}-{hi})" for name, (n, (lo, hi)) in found.items() if _outside(n, (lo, hi))]
    return _check("counts", "warning", "; ".join(off) or None, "themes, quotes and outline within the expected counts")


def _quote_lengths(pack: InsightPack) -> QACheck:
    odd = [q.text for q in pack.quotes if _outside(len(q.text.split()), QUOTE_WORDS)]
    problem = f"{len(odd)} quote(s) outside {QUOTE_WORDS[0]}-{QUOTE_WORDS[1]} words" if odd else None
    return _check("quote_lengths", "info", problem, "every quote stands on its own at a readable length")


def _outline_order(pack: InsightPack, transcript: Transcript) -> QACheck:
    starts = [item.start for item in pack.outline]
    in_order = all(a < b for a, b in zip(starts, starts[1:], strict=False))
    within = all(0 <= s <= transcript.duration for s in starts)
    problem = None if in_order and within else "the outline is out of order or runs past the end of the talk"
    return _check("outline_order", "warning", problem, "the outline follows the talk in order")


def _quarters(pack: InsightPack, transcript: Transcript) -> int:
    duration = transcript.duration or 1.0
    return len({min(3, int(4 * q.start / duration)) for q in pack.quotes})


def _coverage(pack: InsightPack, transcript: Transcript) -> QACheck:
    quarters = _quarters(pack, transcript)
    last_part = pack.outline[-1].start / (transcript.duration or 1.0) if pack.outline else 0.0
    problems = []
    if quarters < min(3, len(pack.quotes)):
        problems.append(f"quotes come from {quarters} of the talk's 4 quarters")
    if last_part < 0.5:
        problems.append("the outline stops before the second half of the talk")
    return _check("coverage", "info", "; ".join(problems) or None, "quotes and outline span the whole talk")


def _distinct_themes(pack: InsightPack) -> QACheck:
    titles = [qa.normalize_text(t.title) for t in pack.themes]
    problem = "two themes share a title" if len(set(titles)) < len(titles) else None
    return _check("distinct_themes", "info", problem, "every theme has its own title")


def insight_checks(pack: InsightPack, transcript: Transcript) -> list[QACheck]:
    return [
        _quotes_verbatim(pack, transcript),
        _quotes_placed(pack, transcript),
        _counts(pack),
        _quote_lengths(pack),
        _outline_order(pack, transcript),
        _coverage(pack, transcript),
        _distinct_themes(pack),
    ]


def score_insights(pack: InsightPack, transcript: Transcript) -> Score:
    checks = insight_checks(pack, transcript)
    rules = qa.rule_score(checks)
    words = [len(q.text.split()) for q in pack.quotes]
    metrics = {
        "themes": len(pack.themes),
        "quotes": len(pack.quotes),
        "outline": len(pack.outline),
        "quote_words_mean": round(sum(words) / len(words), 1) if words else 0.0,
        "quarters_quoted": _quarters(pack, transcript),
    }
    risks = [c.reason for c in checks if not c.passed and c.severity == "risk"]
    return Score(score=rules, rule_score=rules, checks=checks, risk_flags=risks, metrics=metrics)


# --- Drafts ---------------------------------------------------------------------------------


def score_draft(
    draft: Draft,
    transcript: Transcript,
    options: JobOptions,
    *,
    threshold: int,
    qa_judge: Sequence[JudgeScore] | None = None,
    shown_judge: Sequence[JudgeScore] | None = None,
    final: Draft | None = None,
) -> Score:
    """``qa_judge``: the provider's judge, which counts in the QA score as in the pipeline;
    ``shown_judge``: a judge reported beside it without counting (the offline judge)."""
    review, fixed = qa.review_draft(draft, transcript, options=options, judge=qa_judge or None, threshold=threshold)
    judged = list(qa_judge or shown_judge or [])
    metrics = {
        "chars": len(draft.text()),
        "words": len(draft.text().split()),
        "fixes": len(review.fixes),
        "requires_review": review.requires_review,
        "judge": {s.criterion: s.score for s in judged},
    }
    if final is not None:
        metrics["editor_similarity"] = text_similarity(fixed.text(), final.text())
    return Score(
        score=review.score,
        rule_score=qa.rule_score(review.checks),
        judge_score=judge_mean(judged),
        checks=review.checks,
        risk_flags=review.risk_flags,
        metrics=metrics,
    )


# --- The judge ------------------------------------------------------------------------------


def _agrees(flagged: bool, decision: str | None) -> bool | None:
    if decision not in ("approved", "rejected"):
        return None
    return flagged == (decision == "rejected")


def _criteria_means(judged: Mapping[str, Sequence[JudgeScore]]) -> dict[str, float]:
    totals: dict[str, list[int]] = {}
    for scores in judged.values():
        for s in scores:
            totals.setdefault(s.criterion, []).append(s.score)
    return {name: round(sum(values) / len(values), 2) for name, values in totals.items()}


def score_judged(
    drafts: Mapping[str, Draft],
    judged: Mapping[str, Sequence[JudgeScore]],
    transcript: Transcript,
    options: JobOptions,
    *,
    threshold: int,
    decision: str | None = None,
) -> Score:
    reviews = {
        fmt: qa.review_draft(draft, transcript, options=options, judge=judged[fmt], threshold=threshold)[0]
        for fmt, draft in sorted(drafts.items())
    }
    flagged = any(review.requires_review for review in reviews.values())
    all_scores = [s for scores in judged.values() for s in scores]
    metrics = {
        "per_format": {fmt: {"qa": r.score, "judge": judge_mean(judged[fmt])} for fmt, r in reviews.items()},
        "criteria": _criteria_means(judged),
        "flagged": flagged,
        "decision": decision,
        "agrees": _agrees(flagged, decision),
    }
    checks = [c.model_copy(update={"name": f"{fmt}:{c.name}"}) for fmt, r in reviews.items() for c in r.checks]
    return Score(
        score=min(r.score for r in reviews.values()),
        rule_score=min(qa.rule_score(r.checks) for r in reviews.values()),
        judge_score=judge_mean(all_scores),
        checks=checks,
        risk_flags=[flag for r in reviews.values() for flag in r.risk_flags],
        metrics=metrics,
    )
