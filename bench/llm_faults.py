"""LLM calls under injected faults. ``python -m bench.llm_faults``

What a job's content costs when a share of LLM calls is answered 429 (with Retry-After) or 503:
each of RUNS "jobs" (insights, the four default drafts, a judge call per draft — the calls of
the insights, drafts and qa_review steps) runs in process against each local stand-in (Gemini,
OpenAI-compatible) at FAULT_RATE, with the product's retry policy (backoff shortened so the
bench is quick; the number of calls does not depend on it). Printed: jobs completed, and calls
per completed job against a clean run's.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from pipeline.errors import StepError
from pipeline.options import JobOptions
from pipeline.providers.gemini import GeminiContentProvider
from pipeline.providers.openai_compat import OpenAIContentProvider
from pipeline.settings import Settings
from pipeline.transcript import parse_transcript
from tests.support.gemini_server import GeminiServer
from tests.support.openai_server import OpenAIServer

RUNS = 100
FAULT_RATE = 0.3
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "samples" / "creator-workflow-talk.srt"


def one_job(provider, transcript) -> None:
    options = JobOptions()
    pack = provider.insights(transcript, options).value
    for fmt in options.formats:
        provider.judge(provider.draft(fmt, transcript, pack, options).value, transcript)


def measure(name: str, server, make_provider, transcript) -> None:
    with server:
        provider = make_provider(server)
        started, completed = time.perf_counter(), 0
        for _ in range(RUNS):
            try:
                one_job(provider, transcript)
                completed += 1
            except StepError as exc:
                print(f"  {name}: a job failed: {exc.code.value}")
        calls = len(server.requests)
    clean = 1 + 2 * len(JobOptions().formats)
    print(
        f"  {name}: {completed}/{RUNS} jobs completed; {calls / max(completed, 1):.2f} calls per job "
        f"({calls / max(completed, 1) / clean:.2f}x a clean run's {clean}); {server.faults_injected} faults; "
        f"{time.perf_counter() - started:.0f} s"
    )


def main() -> None:
    transcript = parse_transcript(SAMPLE.read_bytes(), SAMPLE.name)
    base = Settings(data_dir=Path(tempfile.mkdtemp()), call_retry_initial_s=0.01, gemini_rpm=10**6, gemini_tpm=10**9)
    print(f"{RUNS} jobs per stand-in, {FAULT_RATE:.0%} of LLM calls answered 429 or 503:")

    def gemini(server):
        return GeminiContentProvider(dataclasses.replace(base, gemini_api_key="bench", gemini_base_url=server.base_url))

    def openai_compatible(server):
        return OpenAIContentProvider(
            dataclasses.replace(base, openai_base_url=server.base_url, openai_model="local", openai_rpm=10**6)
        )

    measure("Gemini", GeminiServer(fault_rate=FAULT_RATE, seed=1, retry_after_s=0.01), gemini, transcript)
    measure(
        "OpenAI-compatible",
        OpenAIServer(fault_rate=FAULT_RATE, seed=1, retry_after_s=0.01),
        openai_compatible,
        transcript,
    )


if __name__ == "__main__":
    main()
