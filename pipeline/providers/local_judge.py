"""An offline judge: the QA judge's rubric scored by rules, versioned like every prompt.

The Gemini judge reads a draft and the transcript and scores accuracy, voice, platform fit, hook,
clarity and safety from 0 to 10. This judge scores the same criteria from measurable signs (the
QA rule checks, first-person rate, length against the format's sweet spot, the opening sentence,
sentence length, risky promises), with its weights and targets in ``prompts/local_judge/<v>.toml``.
It exists so that judge versions can be compared in experiments without a key; the offline
pipeline does not use it (the local content provider has no JUDGE capability), because QA's rule
checks already cover what it measures best.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from pipeline import defaults, formats
from pipeline.models import Draft, JudgeScore, Provenance
from pipeline.numbers import FIRST_PERSON
from pipeline.prompts import Prompt, load_prompt
from pipeline.providers.base import JUDGE, Generation
from pipeline.qa import find_profanity, run_checks, strip_numbering
from pipeline.transcript import Transcript

__all__ = ["LocalJudge", "CRITERIA", "judge_draft"]

CRITERIA = ("accuracy", "voice", "platform_fit", "hook", "clarity", "safety")

_PROMISES = re.compile(
    r"\b(?:guarantee[sd]?|risk[- ]free|overnight success|100%|never fails?|instant results?)", re.IGNORECASE
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_HEADING = re.compile(r"^\s*#{1,6}\s+")


def _clamp(value: float) -> int:
    return max(0, min(10, round(value)))


def _failed(checks: dict, name: str) -> bool:
    return name in checks and not checks[name].passed


def _plain(draft: Draft) -> str:
    lines = [strip_numbering(_HEADING.sub("", line)) for line in draft.text().splitlines()]
    return "\n".join(line for line in lines if line.strip())


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if len(s.split()) >= 2]


def _accuracy(draft: Draft, checks: dict, prompt: Prompt) -> JudgeScore:
    p, problems, score = prompt.params, [], 10
    if _failed(checks, "quotes_grounded"):
        score -= p["misquote_penalty"]
        problems.append("A quote is not the speaker's words")
    if _failed(checks, "unverifiable_numbers"):
        score -= p["number_penalty"]
        problems.append("Numbers appear that the speaker did not say or source")
    reason = prompt.render("accuracy", problems="; ".join(problems)) if problems else prompt.render("accuracy_ok")
    return JudgeScore(criterion="accuracy", score=_clamp(score), reason=reason)


def _voice(draft: Draft, checks: dict, prompt: Prompt) -> JudgeScore:
    p, words = prompt.params, max(1, len(_plain(draft).split()))
    rate = 100 * len(FIRST_PERSON.findall(_plain(draft))) / words
    score = 10 * min(1.0, rate / p["first_person_per_100"])
    cliches = _failed(checks, "banned_phrases")
    score -= p["cliche_penalty"] if cliches else 0
    reason = prompt.render(
        "voice",
        rate=f"{rate:.1f}",
        target=p["first_person_per_100"],
        cliches="; it uses worn phrases" if cliches else "",
    )
    return JudgeScore(criterion="voice", score=_clamp(score), reason=reason)


_UNIT_KEYS = {"words": "words", "posts": "posts", "characters": "chars"}


def _sweet_spot(draft: Draft, prompt: Prompt) -> tuple[str, int, int]:
    """The unit the draft's format is measured in and its range: the prompt file's
    ``<format>_<unit>`` when it sets one, else the format spec's own."""
    measure = formats.get(draft.format).measure
    low, high = prompt.params.get(f"{draft.format}_{_UNIT_KEYS[measure.unit]}", measure.sweet_spot)
    return measure.unit, low, high


def _measure(draft: Draft, unit: str) -> int:
    if unit == "posts":
        return len(draft.posts) or len([p for p in draft.body.split("\n\n") if p.strip()])
    return len(draft.text()) if unit == "characters" else len(_plain(draft).split())


def _platform_fit(draft: Draft, checks: dict, prompt: Prompt) -> JudgeScore:
    if _failed(checks, "platform_limits"):
        reason = prompt.render("platform_fit_over", reason=checks["platform_limits"].reason)
        return JudgeScore(criterion="platform_fit", score=_clamp(prompt.params["over_limit_score"]), reason=reason)
    unit, low, high = _sweet_spot(draft, prompt)
    measure = _measure(draft, unit)
    off = (low - measure) / low if measure < low else (measure - high) / high if measure > high else 0.0
    reason = prompt.render("platform_fit", measure=measure, unit=unit, low=low, high=high)
    return JudgeScore(criterion="platform_fit", score=_clamp(10 - 10 * off), reason=reason)


def _hook_extras(opening: str, p: dict) -> tuple[float, list[str]]:
    bonus, extras = 0.0, []
    for sign, name, key in (("?", "asks a question", "hook_bonus_question"), ('"', "quotes", "hook_bonus_quote")):
        if sign in opening or (sign == '"' and "\u201c" in opening):
            bonus, extras = bonus + p[key], [*extras, name]
    if re.search(r"\d", opening):
        bonus, extras = bonus + p["hook_bonus_number"], [*extras, "gives a number"]
    return bonus, extras


def _hook(draft: Draft, checks: dict, prompt: Prompt) -> JudgeScore:
    p = prompt.params
    opening = next(iter(_sentences(_plain(draft))), "")
    words = len(opening.split())
    low, high = p["hook_words"]
    outside = low - words if words < low else words - high if words > high else 0
    bonus, extras = _hook_extras(opening, p)
    score = p["hook_base"] - outside / p["hook_words_per_point"] + bonus
    shown = opening if len(opening) <= 80 else opening[:79] + "\u2026"
    reason = prompt.render("hook", opening=shown, words=words, extras=f" and {', '.join(extras)}" if extras else "")
    return JudgeScore(criterion="hook", score=_clamp(score), reason=reason)


def _clarity(draft: Draft, checks: dict, prompt: Prompt) -> JudgeScore:
    p, sentences = prompt.params, _sentences(_plain(draft))
    mean = sum(len(s.split()) for s in sentences) / len(sentences) if sentences else 0.0
    score = 10 - max(0.0, mean - p["sentence_words"]) / p["words_per_point"]
    problems = []
    for check, key, text in (
        ("repetition", "repetition_penalty", "repeats itself"),
        ("empty_sections", "empty_section_penalty", "has empty sections"),
    ):
        if _failed(checks, check):
            score -= p[key]
            problems.append(text)
    reason = prompt.render("clarity", mean=f"{mean:.1f}", problems=f"; it {' and '.join(problems)}" if problems else "")
    return JudgeScore(criterion="clarity", score=_clamp(score), reason=reason)


def _safety(draft: Draft, checks: dict, prompt: Prompt) -> JudgeScore:
    p, problems, score = prompt.params, [], 10.0
    if find_profanity(draft.text()):
        score -= p["profanity_penalty"]
        problems.append("Profanity")
    promises = sorted({m.group(0).lower() for m in _PROMISES.finditer(draft.text())})
    if promises:
        score -= p["promise_penalty"] * len(promises)
        problems.append(f"Promises nobody can keep ({', '.join(promises)})")
    if _failed(checks, "leaked_instructions"):
        score = min(score, p["leaked_instruction_score"])
        problems.append("An instruction from the transcript leaked into the draft")
    reason = prompt.render("safety", problems="; ".join(problems)) if problems else prompt.render("safety_ok")
    return JudgeScore(criterion="safety", score=_clamp(score), reason=reason)


_SCORERS = (_accuracy, _voice, _platform_fit, _hook, _clarity, _safety)


def judge_draft(draft: Draft, transcript: Transcript, prompt: Prompt) -> list[JudgeScore]:
    checks = {check.name: check for check in run_checks(draft, transcript)}
    return [scorer(draft, checks, prompt) for scorer in _SCORERS]


def _words(*texts: str) -> int:
    return sum(len(text.split()) for text in texts)


def _reasons(scores: Sequence[JudgeScore]) -> str:
    return " ".join(s.reason for s in scores)


class LocalJudge:
    """The rubric judge without a model; same call shape as a content provider's ``judge``."""

    name = "local"
    model = "rubric-rules"
    capabilities = frozenset({JUDGE})

    @staticmethod
    def prompt_name(task: str) -> str | None:
        return "local_judge" if task == "qa_judge" else None

    def judge(
        self, draft: Draft, transcript: Transcript, *, prompt_version: str | None = None
    ) -> Generation[list[JudgeScore]]:
        started = time.perf_counter()
        prompt = load_prompt("local_judge", prompt_version)
        scores = judge_draft(draft, transcript, prompt)
        provenance = Provenance(
            provider=self.name,
            model=self.model,
            prompt_name=prompt.name,
            prompt_version=prompt.version,
            tokens_in=round(_words(draft.text(), transcript.text) * defaults.TOKENS_PER_WORD),
            tokens_out=round(_words(_reasons(scores)) * defaults.TOKENS_PER_WORD),
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        return Generation(scores, provenance)
