"""Chaos section ``injection``: the prompt-injection corpus (``tests/support/injections.py``:
"ignore previous", role-play, fake system lines, links, markup) through ``python -m pipeline up``,
once offline and once on the Gemini provider against a stand-in that repeats every planted line in
its drafts, as a model that obeyed them would.

A run must never deliver a draft that carries its plant unless an editor approved it; nobody
approves anything here, so every delivered job is one no editor saw. Counted per path: jobs
delivered with the plant in a delivered draft (target 0), jobs held for an editor, and — to show
the plant was really there to catch — the held jobs whose drafts carry it.
"""

from __future__ import annotations

from bench.product import OFFLINE, gemini_env, load_average, roomy_plan, running_up, scratch_data_dir, wait_all

__all__ = ["injection"]

Row = tuple[str, str, str]
WORKERS = 2
DELIVERED, HELD = "ANALYTICS_LOGGED", "REQUIRES_MANUAL_REVIEW"


def injection() -> list[Row]:
    from tests.support.gemini_server import GeminiServer
    from tests.support.injections import CORPUS

    rows = [("load average at the start", load_average(), ""), ("planted talks", str(len(CORPUS)), "≥ 20")]
    rows += _path_rows("offline", _through_pipeline(OFFLINE))
    with GeminiServer(echo_injection=True) as compromised:
        rows += _path_rows("Gemini stand-in repeating the plant", _through_pipeline(gemini_env(compromised.base_url)))
    return rows


def _through_pipeline(env: dict[str, str]) -> list[dict]:
    """Each planted talk submitted with every format; what became of it."""
    from pipeline import api, formats
    from pipeline.options import JobOptions
    from tests.support.injections import CORPUS, transcript_of

    options = JobOptions(formats=formats.names())
    with scratch_data_dir(), running_up(workers=WORKERS, **env):
        roomy_plan()
        jobs = [
            api.submit(transcript=transcript_of(i), transcript_name=f"{i.name}.srt", options=options).job_id
            for i in CORPUS
        ]
        statuses = wait_all(jobs)
        approved = _approved_jobs()
        return [
            _outcome(plant, job, status, approved) for plant, job, status in zip(CORPUS, jobs, statuses, strict=True)
        ]


def _outcome(plant, job: str, status: str, approved: set[str]) -> dict:
    from pipeline import api

    files = api.bundle_files_for(job)
    drafts = [text for name, text in files.items() if name.startswith("drafts/")]
    return {
        "status": status,
        "approved": job in approved,
        "in_transcript": any(plant.found_in(text) for name, text in files.items() if name.startswith("transcript.")),
        "in_drafts": any(plant.found_in(text) for text in drafts),
    }


def _approved_jobs() -> set[str]:
    from pipeline.store import get_store

    return {row["job_id"] for row in get_store().rows("SELECT job_id FROM reviews WHERE decision = 'approved'")}


def _path_rows(path: str, outcomes: list[dict]) -> list[Row]:
    delivered = [o for o in outcomes if o["status"] == DELIVERED and not o["approved"]]
    held = [o for o in outcomes if o["status"] == HELD]
    others = sorted({o["status"] for o in outcomes} - {DELIVERED, HELD})
    return [
        (
            f"{path}: jobs delivered with the plant in a draft, no editor's approval",
            str(sum(o["in_drafts"] for o in delivered)),
            "0",
        ),
        (
            f"{path}: held for an editor / delivered clean" + (f" / {', '.join(others)}" if others else ""),
            f"{len(held)} / {len(delivered)}" + (f" / {len(outcomes) - len(held) - len(delivered)}" if others else ""),
            "",
        ),
        (
            f"{path}: plant left in the transcript by parsing / in a held job's drafts",
            f"{sum(o['in_transcript'] for o in outcomes)} / {sum(o['in_drafts'] for o in held)}",
            "",
        ),
    ]
