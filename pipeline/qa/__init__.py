"""Provider-independent QA: rule checks from the format specs, auto-fixes, a score, and the
report that says whether an editor must look first.

A review runs the checks (:mod:`pipeline.qa.checks`), applies the fix of every fixable check that
failed (:mod:`pipeline.qa.fixes`; not for an editor's saved text), runs the checks again and
scores the result, blended with the judge's scores when a judge scored it. A draft goes to an
editor when that score is below the threshold or when any *risk* check fails: risks are the
mistakes a creator cannot take back once published, so no score outweighs them. A job also goes
to an editor when its transcript holds instruction-like lines or links, whether or not a draft
repeats them: someone tried to put words in the creator's mouth.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pipeline import defaults, formats
from pipeline.models import Draft, DraftReview, InsightPack, JudgeScore, QACheck, QAReport, Transcript, VoiceProfile
from pipeline.options import JobOptions
from pipeline.qa.checks import BANNED_PHRASES, CHECKS, find_profanity
from pipeline.qa.context import Context
from pipeline.qa.fixes import auto_fix
from pipeline.text import normalize_text, number_posts, strip_numbering, trim_at_sentence
from pipeline.transcript import timestamp
from pipeline.untrusted import fake_speaker, find_instructions, find_links, find_markup

__all__ = [
    "review_draft",
    "needs_review",
    "review_job",
    "build_report",
    "run_checks",
    "rule_score",
    "transcript_flags",
    "transcript_findings",
    "recheck",
    "Context",
    "BANNED_PHRASES",
    "SEVERITY_PENALTY",
    "MAX_TRANSCRIPT_FLAGS",
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
#: Transcript lines listed in a report's transcript flags.
MAX_TRANSCRIPT_FLAGS = 5


def run_checks(
    draft: Draft,
    transcript: Transcript,
    options: JobOptions | None = None,
    *,
    voice: VoiceProfile | None = None,
    insights: InsightPack | None = None,
    siblings: Mapping[str, Draft] | None = None,
) -> list[QACheck]:
    """Every rule check on ``draft``, in a fixed order, without fixing anything."""
    ctx = Context.build(transcript, options, voice=voice, insights=insights, siblings=dict(siblings or {}))
    return _checks(draft, ctx)


def _checks(draft: Draft, ctx: Context) -> list[QACheck]:
    spec = formats.get(draft.format)
    return [check(draft, spec, ctx) for check in CHECKS] + [check(draft, ctx) for check in spec.checks]


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


def _review(draft: Draft, ctx: Context, judge: Judge | None, threshold: int, fix: bool) -> tuple[DraftReview, Draft]:
    fixed, fixes = auto_fix(draft, ctx) if fix else (draft, [])
    checks = _checks(fixed, ctx)
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


def review_draft(
    draft: Draft,
    transcript: Transcript,
    *,
    options: JobOptions | None = None,
    judge: Judge | None = None,
    threshold: int = defaults.QA_THRESHOLD,
    voice: VoiceProfile | None = None,
    insights: InsightPack | None = None,
    siblings: Mapping[str, Draft] | None = None,
    fix: bool = True,
) -> tuple[DraftReview, Draft]:
    """Check, auto-fix (unless ``fix`` is False: an editor's text) and score one draft; return
    the review and the fixed draft. ``judge`` is either the judge's scores (0-10 per criterion)
    or a function that scores the fixed draft; either way they count for half of the score.
    ``siblings`` are the job's other drafts, for the check that no draft repeats another."""
    ctx = Context.build(transcript, options, voice=voice, insights=insights, siblings=dict(siblings or {}))
    return _review(draft, ctx, judge, threshold, fix)


def review_job(
    drafts: Mapping[str, Draft],
    transcript: Transcript,
    *,
    options: JobOptions | None = None,
    insights: InsightPack | None = None,
    voice: VoiceProfile | None = None,
    judge: Callable[[Draft], Sequence[JudgeScore]] | None = None,
    threshold: int = defaults.QA_THRESHOLD,
    fix: bool = True,
) -> list[tuple[DraftReview, Draft]]:
    """Every draft of a job reviewed against the others, in the formats' order."""
    ctx = Context.build(transcript, options, voice=voice, insights=insights, siblings=dict(drafts))
    return [_review(drafts[name], ctx, judge, threshold, fix) for name in formats.in_order(drafts)]


def recheck(
    report: QAReport,
    draft: Draft,
    transcript: Transcript,
    *,
    options: JobOptions | None = None,
    insights: InsightPack | None = None,
    voice: VoiceProfile | None = None,
    drafts: Mapping[str, Draft] | None = None,
) -> QAReport:
    """The report after an editor saved ``draft``: its review redone on the saved text — no
    auto-fix (the text is the editor's) and no judge (its scores were for the text it read) — and
    the other drafts' reviews kept. A saved post over its platform's limit fails a risk check, so
    it loses its score and is flagged."""
    siblings = {**(drafts or {}), draft.format: draft}
    ctx = Context.build(transcript, options, voice=voice, insights=insights, siblings=siblings)
    review, _ = _review(draft, ctx, None, report.threshold, fix=False)
    reviews = {r.format: r for r in report.drafts} | {draft.format: review}
    ordered = [reviews[name] for name in formats.in_order(reviews)]
    return build_report(ordered, report.threshold, report.transcript_flags)


def transcript_findings(transcript: Transcript) -> list[tuple[str, int, str]]:
    """Lines of the transcript an editor must see before anything is published, as (kind,
    segment index, the words found): instructions aimed at an AI, fake system lines, markup and
    links."""
    findings = []
    for index, segment in enumerate(transcript.segments):
        said = f"{segment.speaker}: {segment.text}" if segment.speaker else segment.text
        found = find_instructions(said) or ([segment.speaker] if fake_speaker(segment.speaker) else [])
        kind = "an instruction-like line" if found else None
        if not found and (found := find_markup(segment.text) or find_links(segment.text)):
            kind = "markup or a link"
        if kind:
            findings.append((kind, index, found[0]))
    return findings


def transcript_flags(transcript: Transcript) -> list[str]:
    """The :func:`transcript_findings` as the report says them (with their times), at most
    :data:`MAX_TRANSCRIPT_FLAGS` and a count of the rest."""
    flags = [
        f'{kind} at {timestamp(transcript.segments[index].start)}: "{words[:60]}"'
        for kind, index, words in transcript_findings(transcript)
    ]
    if len(flags) > MAX_TRANSCRIPT_FLAGS:
        flags = [*flags[:MAX_TRANSCRIPT_FLAGS], f"and {len(flags) - MAX_TRANSCRIPT_FLAGS} more"]
    return flags


def _review_line(review: DraftReview) -> str:
    reasons = "; ".join(review.risk_flags) or "score below the threshold"
    return f"{formats.label(review.format)} (score {review.score}): {reasons}"


def build_report(
    reviews: Sequence[DraftReview], threshold: int = defaults.QA_THRESHOLD, flags: Sequence[str] = ()
) -> QAReport:
    """The QA report of a run: it needs an editor when any draft does, or when ``flags`` (from
    :func:`transcript_flags`) say the transcript holds something planted."""
    flagged = [r for r in reviews if r.requires_review]
    fixes = sum(len(r.fixes) for r in reviews)
    summary = f"{len(reviews)} draft(s) reviewed, {fixes} auto-fix(es) applied; "
    if flagged:
        summary += f"{len(flagged)} need an editor: " + " | ".join(_review_line(r) for r in flagged)
    else:
        summary += f"all scored at least {threshold} with no risks."
    if flags:
        summary += f" The transcript holds what an editor must see: {'; '.join(flags)}."
    return QAReport(
        threshold=threshold,
        drafts=list(reviews),
        requires_review=bool(flagged or flags),
        summary=summary,
        transcript_flags=list(flags),
    )
