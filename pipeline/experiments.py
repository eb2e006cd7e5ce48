"""Prompt experiments: run prompt versions side by side over a dataset, score every output,
keep the results, and promote the winner.

An experiment runs every version of one task's prompt (``insights``, ``draft:<format>`` or
``qa_judge``) over every item of a dataset with the configured provider, the same calls the
workers make. Each (version, item) cell records the output, its scores (:mod:`pipeline.scoring`),
and tokens, cost and latency from the provider's provenance. What a task needs as input but
does not test (the insight pack for a draft, the drafts for a judge) comes from the item when a
past run made it, else it is generated once per item with the versions new runs use now, so
every version sees the same input. Experiments and cells are stored, so they can be compared
later; :func:`promote` makes a version the one new runs use.

The offline provider has no judge in the pipeline; for the ``qa_judge`` task (and the judge
score beside offline drafts) experiments use the offline rubric judge
(:class:`pipeline.providers.local_judge.LocalJudge`), whose versions are prompt files too.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from pydantic import BaseModel

from pipeline import formats, labels, prompts, qa
from pipeline.datasets import Item
from pipeline.errors import InvalidInput
from pipeline.export import draft_as_posted
from pipeline.labels import PRODUCTION, promote, resolve
from pipeline.models import Draft, InsightPack, JudgeScore, Provenance
from pipeline.providers import JUDGE, ContentProvider, content_provider
from pipeline.providers.base import merge_provenance
from pipeline.providers.local_judge import LocalJudge
from pipeline.scoring import Score, score_draft, score_insights, score_judged
from pipeline.settings import Settings, get_settings
from pipeline.store import experiments as experiment_rows
from pipeline.store import get_store
from pipeline.store.jobs import new_id
from pipeline.tasks import INSIGHTS, QA_JUDGE, TASKS, check_task, draft_format, draft_task, prompt_name_for
from pipeline.transcript import timestamp

__all__ = [
    "TASKS",
    "PRODUCTION",
    "Cell",
    "Experiment",
    "run_experiment",
    "load_experiment",
    "list_experiments",
    "compare",
    "prompt_for",
    "versions_for",
    "provider_named",
    "promote",
    "resolve",
    "render_insights",
]

ProgressFn = Callable[[int, int], None]


class Cell(BaseModel):
    version: str
    item_id: str
    item_title: str
    status: str  # ok | error
    score: int | None = None
    rule_score: int | None = None
    judge_score: int | None = None
    checks_passed: int = 0
    checks_failed: list[str] = []
    risk_flags: list[str] = []
    prompt_name: str | None = None
    prompt_version: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    output: dict | list | None = None
    output_text: str | None = None
    metrics: dict = {}
    error: str | None = None


class Experiment(BaseModel):
    experiment_id: str
    task: str
    prompt_name: str
    versions: list[str]
    dataset: str
    provider: str
    model: str
    baseline: dict
    items: int
    note: str | None = None
    created_by: str
    created_at: datetime
    finished_at: datetime | None = None
    cells: list[Cell] = []

    def frame(self):
        """One row per cell: the matrix a tuner reads, as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([_cell_row(cell) for cell in self.cells])

    def matrix(self, value: str = "score"):
        """Items down, versions across, one measure (``score``, ``judge_score``, ``cost_usd``, ...)."""
        frame = self.frame()
        table = frame.pivot_table(index="item", columns="version", values=value, aggfunc="first")
        return table.reindex(columns=[v for v in self.versions if v in table.columns])

    def summary(self, threshold: int | None = None):
        """Per version: mean/min score, items passing QA (score at least ``threshold``, no risk),
        risks, judge, closeness to editors, agreement with editors, tokens, cost, latency."""
        import pandas as pd

        threshold = get_settings().qa_threshold if threshold is None else threshold
        rows = [_version_summary(v, [c for c in self.cells if c.version == v], threshold) for v in self.versions]
        return pd.DataFrame(rows).set_index("version")

    def outputs(self, item_id: str) -> dict[str, str]:
        """version -> the output for one item, as a reader sees it."""
        found = {c.version: c.output_text or c.error or "" for c in self.cells if c.item_id == item_id}
        if not found:
            have = ", ".join(self.item_ids)
            raise InvalidInput(f"experiment {self.experiment_id} has no item {item_id!r}; have {have}")
        return {version: found[version] for version in self.versions if version in found}

    @property
    def item_ids(self) -> list[str]:
        return list(dict.fromkeys(cell.item_id for cell in self.cells))

    def best_version(self) -> str:
        """The version with the highest mean score, then the fewest risks, then the lowest cost."""
        summary = self.summary()
        ranked = summary.sort_values(["mean_score", "risks", "cost_usd"], ascending=[False, True, True])
        return str(ranked.index[0])


def _cell_row(cell: Cell) -> dict:
    return {
        "version": cell.version,
        "item_id": cell.item_id,
        "item": cell.item_title,
        "status": cell.status,
        "score": cell.score,
        "rule_score": cell.rule_score,
        "judge_score": cell.judge_score,
        "checks_passed": cell.checks_passed,
        "checks_failed": ", ".join(cell.checks_failed),
        "risks": len(cell.risk_flags),
        "tokens_in": cell.tokens_in,
        "tokens_out": cell.tokens_out,
        "cost_usd": cell.cost_usd,
        "latency_ms": cell.latency_ms,
        "editor_similarity": cell.metrics.get("editor_similarity"),
        "agrees_with_editor": cell.metrics.get("agrees"),
        "error": cell.error,
    }


def _mean(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 2) if present else None


def _version_summary(version: str, cells: list[Cell], threshold: int) -> dict:
    ok = [c for c in cells if c.status == "ok"]
    agreements = [c.metrics.get("agrees") for c in ok if c.metrics.get("agrees") is not None]
    return {
        "version": version,
        "cells": len(cells),
        "errors": len(cells) - len(ok),
        "mean_score": _mean([c.score for c in ok]),
        "min_score": min((c.score for c in ok), default=None),
        "passing": sum(1 for c in ok if not qa.needs_review(c.score, c.risk_flags, threshold)),
        "risks": sum(len(c.risk_flags) for c in ok),
        "mean_judge": _mean([c.judge_score for c in ok]),
        "editor_similarity": _mean([c.metrics.get("editor_similarity") for c in ok]),
        "agreement": _mean([1.0 if a else 0.0 for a in agreements]),
        "tokens_in": sum(c.tokens_in for c in ok),
        "tokens_out": sum(c.tokens_out for c in ok),
        "cost_usd": round(sum(c.cost_usd for c in ok), 6),
        "mean_latency_ms": _mean([c.latency_ms for c in ok]),
    }


# --- Providers and prompts ----------------------------------------------------------------


def provider_named(name: str = "auto", settings: Settings | None = None) -> ContentProvider:
    """The content provider ``auto``/``local``/``gemini`` (or ``module:factory``) would select."""
    settings = dataclasses.replace(settings or get_settings(), provider=name)
    return content_provider(settings)


def _runner_for(provider: ContentProvider, task: str):
    """What the task's prompt versions run on: the provider, or for ``qa_judge`` its judge (the
    offline rubric judge when the provider has none)."""
    if task == QA_JUDGE and JUDGE not in provider.capabilities:
        return LocalJudge()
    return provider


def prompt_for(task: str, provider: ContentProvider | None = None) -> str:
    """The prompt a task's versions are read from, for ``provider`` (the configured one)."""
    provider = provider or content_provider(get_settings())
    name = prompt_name_for(_runner_for(provider, check_task(task)), task)
    if name is None:
        raise InvalidInput(f"the {provider.name} provider does not say which prompt it reads for {task}")
    return name


def versions_for(task: str, provider: ContentProvider | None = None) -> list[str]:
    return prompts.list_versions(prompt_for(task, provider))


# --- Running ------------------------------------------------------------------------------


@dataclasses.dataclass
class _Plan:
    task: str
    prompt_name: str
    versions: list[str]
    provider: ContentProvider
    runner: object  # the provider, or the judge for qa_judge
    judge: object | None  # the judge that scores drafts (None for insights)
    baseline: dict[str, str]
    threshold: int


@dataclasses.dataclass
class _Inputs:
    insights: InsightPack | None = None
    drafts: dict[str, Draft] = dataclasses.field(default_factory=dict)
    error: str | None = None


def _check_versions(prompt_name: str, versions: list[str]) -> list[str]:
    available = prompts.list_versions(prompt_name)
    unknown = [v for v in versions if v not in available]
    if not versions or unknown or len(set(versions)) != len(versions):
        raise InvalidInput(
            f"choose distinct versions of {prompt_name} from {', '.join(available)} "
            f"(got {', '.join(versions) or 'none'})"
        )
    return list(versions)


def _baseline(provider: ContentProvider, task: str, judge: object | None, settings: Settings) -> dict[str, str]:
    """The versions new runs use now of every prompt an experiment on ``task`` relies on but
    does not test."""
    names = []
    if task != INSIGHTS:
        names.append(prompt_name_for(provider, INSIGHTS))
    if task == QA_JUDGE:
        names += [prompt_name_for(provider, spec.task) for spec in formats.specs()]
    elif judge is not None:
        names.append(prompt_name_for(judge, QA_JUDGE))
    return labels.resolve_all([name for name in names if name], settings=settings)


def _check_items(items: list[Item]) -> None:
    if not items:
        raise InvalidInput("the dataset has no items; choose another dataset or run the pipeline first")
    ids = [item.item_id for item in items]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InvalidInput(f"the dataset lists {', '.join(twice)} more than once")


def _plan(task: str, versions: list[str], provider: ContentProvider, settings: Settings) -> _Plan:
    runner = _runner_for(provider, check_task(task))
    prompt_name = prompt_for(task, provider)
    judge = None if task == INSIGHTS else (provider if JUDGE in provider.capabilities else LocalJudge())
    return _Plan(
        task=task,
        prompt_name=prompt_name,
        versions=_check_versions(prompt_name, versions),
        provider=provider,
        runner=runner,
        judge=judge,
        baseline=_baseline(provider, task, judge, settings),
        threshold=settings.qa_threshold,
    )


def run_experiment(
    task: str,
    versions: list[str],
    items: list[Item],
    *,
    provider: ContentProvider | None = None,
    dataset: str = "custom",
    note: str | None = None,
    by: str | None = None,
    parallel: int = 1,
    progress: ProgressFn | None = None,
    settings: Settings | None = None,
) -> Experiment:
    """Run every version x every item, score and store each cell; return the experiment."""
    settings = settings or get_settings()
    _check_items(items)
    versions = [versions] if isinstance(versions, str) else list(versions)
    plan = _plan(task, versions, provider or content_provider(settings), settings)
    experiment_id = new_id("exp")
    get_store(settings).run(
        experiment_rows.create_experiment,
        experiment_id=experiment_id,
        task=task,
        prompt_name=plan.prompt_name,
        versions=plan.versions,
        dataset=dataset,
        provider=plan.provider.name,
        model=plan.provider.model,
        baseline=plan.baseline,
        items=len(items),
        note=note,
        created_by=by or os.environ.get("USER") or "prompt-tuner",
    )
    inputs = {item.item_id: _prepare(plan, item) for item in items}
    jobs = [(version, item) for version in plan.versions for item in items]
    _run_cells(plan, jobs, inputs, experiment_id, settings, max(1, parallel), progress)
    get_store(settings).run(experiment_rows.finish_experiment, experiment_id)
    return load_experiment(experiment_id, settings)


def _run_cells(
    plan: _Plan,
    jobs: list[tuple[str, Item]],
    inputs: dict[str, _Inputs],
    experiment_id: str,
    settings: Settings,
    parallel: int,
    progress: ProgressFn | None,
) -> None:
    def one(job: tuple[str, Item]) -> None:
        version, item = job
        cell = _run_cell(plan, version, item, inputs[item.item_id])
        get_store(settings).run(experiment_rows.save_cell, {"experiment_id": experiment_id, **cell.model_dump()})

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for done, _ in enumerate(pool.map(one, jobs), 1):
            if progress:
                progress(done, len(jobs))


def _error_text(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    return f"{getattr(code, 'value', type(exc).__name__)}: {exc}"


def _prepare(plan: _Plan, item: Item) -> _Inputs:
    """The inputs an item lacks for this task, generated once with the baseline versions."""
    try:
        insights = item.insights
        if insights is None and plan.task != INSIGHTS:
            version = plan.baseline.get(prompt_name_for(plan.provider, INSIGHTS))
            insights = plan.provider.insights(item.transcript, item.options, prompt_version=version).value
        drafts = _baseline_drafts(plan, item, insights) if plan.task == QA_JUDGE else {}
        return _Inputs(insights=insights, drafts=drafts)
    except Exception as exc:  # one unusable item must not stop the experiment
        return _Inputs(error=f"could not prepare the inputs: {_error_text(exc)}")


def _baseline_drafts(plan: _Plan, item: Item, insights: InsightPack) -> dict[str, Draft]:
    drafts = {}
    for fmt in item.options.formats:
        drafts[fmt] = (
            item.drafts.get(fmt)
            or plan.provider.draft(
                fmt,
                item.transcript,
                insights,
                item.options,
                prompt_version=plan.baseline.get(prompt_name_for(plan.provider, draft_task(fmt))),
            ).value
        )
    return drafts


def _run_cell(plan: _Plan, version: str, item: Item, inputs: _Inputs) -> Cell:
    base = {"version": version, "item_id": item.item_id, "item_title": item.title}
    if inputs.error:
        return Cell(**base, status="error", error=inputs.error)
    try:
        output, text, score, provenance, extra = _CELL_RUNNERS[_kind(plan.task)](plan, version, item, inputs)
    except Exception as exc:  # a failed call is a result too: the matrix shows it
        return Cell(**base, status="error", error=_error_text(exc))
    return Cell(
        **base,
        status="ok",
        output=output,
        output_text=text,
        **_score_fields(score),
        **_provenance_fields(provenance),
        metrics={**score.metrics, **extra},
    )


def _kind(task: str) -> str:
    return "draft" if draft_format(task) else task


def _score_fields(score: Score) -> dict:
    return {
        "score": score.score,
        "rule_score": score.rule_score,
        "judge_score": score.judge_score,
        "checks_passed": sum(1 for c in score.checks if c.passed),
        "checks_failed": [c.name for c in score.checks if not c.passed],
        "risk_flags": score.risk_flags,
    }


def _provenance_fields(p: Provenance) -> dict:
    return {
        "prompt_name": p.prompt_name,
        "prompt_version": p.prompt_version,
        "tokens_in": p.tokens_in,
        "tokens_out": p.tokens_out,
        "cost_usd": p.cost_usd,
        "latency_ms": p.latency_ms,
    }


def _insights_cell(plan: _Plan, version: str, item: Item, inputs: _Inputs):
    generation = plan.runner.insights(item.transcript, item.options, prompt_version=version)
    pack = generation.value
    return (
        pack.model_dump(mode="json"),
        render_insights(pack),
        score_insights(pack, item.transcript),
        generation.provenance,
        {},
    )


def _judge_scores(plan: _Plan, draft: Draft, item: Item) -> tuple[list[JudgeScore], Provenance]:
    version = plan.baseline.get(prompt_name_for(plan.judge, QA_JUDGE))
    generation = plan.judge.judge(draft, item.transcript, prompt_version=version)
    return generation.value, generation.provenance


def _draft_cell(plan: _Plan, version: str, item: Item, inputs: _Inputs):
    fmt = draft_format(plan.task)
    generation = plan.runner.draft(fmt, item.transcript, inputs.insights, item.options, prompt_version=version)
    draft = generation.value
    scores, judged_by = _judge_scores(plan, draft, item)
    counts = JUDGE in plan.provider.capabilities  # the provider's own judge counts in QA, as in the pipeline
    score = score_draft(
        draft,
        item.transcript,
        item.options,
        threshold=plan.threshold,
        qa_judge=scores if counts else None,
        shown_judge=None if counts else scores,
        final=item.final.get(fmt),
    )
    extra = {
        "judge_prompt": f"{judged_by.prompt_name} {judged_by.prompt_version}",
        "evaluation_cost_usd": judged_by.cost_usd,
    }
    return draft.model_dump(mode="json"), draft_as_posted(draft), score, generation.provenance, extra


def _judge_cell(plan: _Plan, version: str, item: Item, inputs: _Inputs):
    generations = {
        fmt: plan.runner.judge(draft, item.transcript, prompt_version=version)
        for fmt, draft in sorted(inputs.drafts.items())
    }
    judged = {fmt: g.value for fmt, g in generations.items()}
    score = score_judged(
        inputs.drafts, judged, item.transcript, item.options, threshold=plan.threshold, decision=item.decision
    )
    output = {fmt: [s.model_dump() for s in scores] for fmt, scores in judged.items()}
    provenance = merge_provenance([g.provenance for g in generations.values()])
    return output, render_judged(judged), score, provenance, {}


_CELL_RUNNERS = {"insights": _insights_cell, "draft": _draft_cell, "qa_judge": _judge_cell}


# --- Reading back ---------------------------------------------------------------------------


def load_experiment(experiment_id: str, settings: Settings | None = None) -> Experiment:
    row, cells = get_store(settings or get_settings()).run(experiment_rows.experiment_with_cells, experiment_id)
    return Experiment(**row, cells=[Cell.model_validate(c) for c in cells])


def list_experiments(task: str | None = None, limit: int = 50, settings: Settings | None = None):
    """Stored experiments, newest first, as a DataFrame (cells, errors, mean score)."""
    import pandas as pd

    rows = get_store(settings or get_settings()).run(experiment_rows.list_experiments, task=task, limit=limit)
    columns = [
        "experiment_id",
        "created_at",
        "task",
        "prompt_name",
        "versions",
        "dataset",
        "provider",
        "model",
        "items",
        "cells",
        "errors",
        "mean_score",
        "note",
        "finished_at",
    ]
    return pd.DataFrame(rows, columns=columns)


def compare(*experiment_ids: str, settings: Settings | None = None):
    """The per-version summaries of several experiments, one under the other."""
    import pandas as pd

    frames = []
    for experiment_id in experiment_ids:
        summary = load_experiment(experiment_id, settings).summary().reset_index()
        frames.append(summary.assign(experiment_id=experiment_id))
    return pd.concat(frames, ignore_index=True).set_index(["experiment_id", "version"]) if frames else pd.DataFrame()


# --- Reading outputs -----------------------------------------------------------------------


def render_insights(pack: InsightPack) -> str:
    """An insight pack as Markdown, for side-by-side reading."""
    lines = [f"# {pack.title}", "", pack.summary, "", "## Themes"]
    lines += [f"- **{t.title}**: {t.summary}" for t in pack.themes]
    lines += ["", "## Quotes"] + [f"- ({timestamp(q.start)}) \u201c{q.text}\u201d" for q in pack.quotes]
    lines += ["", "## Outline"] + [f"- {timestamp(o.start)} {o.title}" for o in pack.outline]
    return "\n".join(lines) + "\n"


def render_judged(judged: dict[str, list[JudgeScore]]) -> str:
    """A judge's scores per draft format, as Markdown."""
    lines = []
    for fmt, scores in judged.items():
        lines += [f"## {formats.label(fmt)}"] + [f"- {s.criterion} {s.score}/10: {s.reason}" for s in scores] + [""]
    return "\n".join(lines)
