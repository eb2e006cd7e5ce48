"""Draft quality and QA benchmarks. ``python -m bench.quality``

- QA against its labelled set (data/evaluation/qa_eval.json): recall of seeded defects, per
  kind, and the share of good drafts QA flags;
- the offline provider's drafts of the bundled samples (the 14-minute talk, the one-hour
  workshop, the risky interview, and the 1962 Moon speech credited to John F. Kennedy), in every
  format: quotes grounded (verbatim, timed by the cue they start in), platform limits kept, the
  share of newsletter sentences the blog post repeats, the share of a job's draft sentences that
  turn up in the drafts of other jobs, draft lengths against the source, and what QA says;
- the same drafts made by a capable LLM (the local Gemini stand-in), for comparison.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from pipeline import formats, qa
from pipeline.options import JobOptions
from pipeline.providers.gemini import GeminiContentProvider
from pipeline.providers.local import LocalContentProvider
from pipeline.quality import draft_figures, evaluate_qa
from pipeline.settings import Settings
from pipeline.transcript import parse_transcript
from tests.support.gemini_server import GeminiServer

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
JOBS = {
    "creator-workflow-talk": None,
    "long-workshop": None,
    "risky-interview": None,
    "moon-speech-1962": "John F. Kennedy",
}


def qa_evaluation() -> None:
    started = time.perf_counter()
    result = evaluate_qa()
    print(f"QA on its labelled set ({time.perf_counter() - started:.1f} s):")
    caught, seeded = sum(result.caught.values()), sum(result.seeded.values())
    print(f"  recall of seeded defects: {result.recall:.3f} ({caught}/{seeded}, {len(result.seeded)} kinds)")
    print(f"  false-flag rate on good drafts: {result.false_flag_rate:.3f} ({len(result.false_flags)}/{result.good})")
    missed = {kind: n - result.caught[kind] for kind, n in result.seeded.items() if result.caught[kind] < n}
    print(f"  kinds with a miss: {missed or 'none'}")


def make_jobs(provider) -> dict:
    jobs = {}
    for name, speaker in JOBS.items():
        transcript = parse_transcript((SAMPLES / f"{name}.srt").read_bytes(), f"{name}.srt")
        options = JobOptions(formats=formats.names(), speaker=speaker)
        pack = provider.insights(transcript, options).value
        drafts = {fmt: provider.draft(fmt, transcript, pack, options).value for fmt in options.formats}
        jobs[name] = (transcript, pack, drafts, options)
    return jobs


def report(title: str, jobs: dict) -> None:
    figures = draft_figures({name: job[:3] for name, job in jobs.items()})
    print(f"{title}:")
    print(f"  quotes grounded (verbatim, timed by their cue): {figures.quotes_grounded}/{figures.quotes}")
    print(f"  drafts within their platform's limits: {figures.within_limits}/{figures.drafts}")
    for (name, other), shared in figures.pair_shared.items():
        what = f"{formats.label(name).lower()} sentences repeated in the {formats.label(other).lower()}"
        print(f"  {what}: mean {statistics.mean(shared):.0%}, max {max(shared):.0%}")
    cross = figures.cross_job_shared
    print(f"  draft sentences found in other jobs' drafts: mean {statistics.mean(cross):.1%}, max {max(cross):.1%}")
    print(f"  {'job':<24} {'words':>6}  " + "  ".join(f"{fmt[:10]:>10}" for fmt in formats.names()) + "  QA")
    for name, (transcript, pack, drafts, options) in jobs.items():
        reviews = qa.review_job(drafts, transcript, options=options, insights=pack)
        result = qa.build_report([r for r, _ in reviews], flags=qa.transcript_flags(transcript))
        scores = ",".join(str(r.score) for r, _ in reviews)
        verdict = "to an editor" if result.requires_review else "delivered"
        words = "  ".join(f"{figures.words[name][fmt]:>10}" for fmt in formats.names())
        print(f"  {name:<24} {transcript.word_count:>6}  {words}  {scores} ({verdict})")


def main() -> None:
    qa_evaluation()
    started = time.perf_counter()
    offline = make_jobs(LocalContentProvider())
    report(f"Offline drafts of the bundled samples ({time.perf_counter() - started:.1f} s)", offline)
    with GeminiServer() as server:
        settings = Settings(
            data_dir=Path(tempfile.mkdtemp()),
            gemini_api_key="bench",
            gemini_base_url=server.base_url,
            gemini_rpm=10_000,
            gemini_tpm=10**9,
        )
        llm = make_jobs(GeminiContentProvider(dataclasses.replace(settings)))
    report("The same through the LLM path (the local Gemini stand-in's scripted answers)", llm)


if __name__ == "__main__":
    main()
