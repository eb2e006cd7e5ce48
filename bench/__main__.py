"""``python -m bench [name ...]``: run the benchmarks and print their figures.

Each benchmark is a module of this package run in its own process, so one's workers, servers
and caches never colour another's figures. With no names, all of them run.
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = {
    "orchestration": "bench.orchestration",  # pipeline core: overhead, latency, 1-hour transcript, scale-out
    "asr": "bench.asr",  # offline ASR real-time factor and WER, audio-only download size
    "ui": "bench.ui",  # first render of Runs and Run detail with 10,000 jobs
    "gemini_cost": "bench.gemini_cost",  # estimated Gemini cost per hour of video
    "chaos": "bench.chaos",  # hostile input, webhook targets; Redis, workers, LLM calls failing under up; injection
    "quality": "bench.quality",  # QA recall and false flags; grounding, limits and overlap of the drafts
    "llm_faults": "bench.llm_faults",  # jobs completed and calls per job with 30% of LLM calls failing
    "api": "bench.api",  # HTTP API: POST /api/jobs and GET /api/jobs/{id} with 50 clients, beside in-process
}


def main(argv: list[str]) -> int:
    """``python -m bench [name ...] [--flags]``: flags (``--json``, ``--quick``) go to each benchmark."""
    names = [a for a in argv if not a.startswith("--")]
    flags = [a for a in argv if a.startswith("--")]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names or list(BENCHMARKS):
        started = time.perf_counter()
        quiet = "--json" in flags  # stdout stays one JSON object per benchmark
        if not quiet:
            print(f"# {name}", flush=True)
        failed += subprocess.run([sys.executable, "-m", BENCHMARKS[name], *flags]).returncode != 0
        if not quiet:
            print(f"# {name} took {time.perf_counter() - started:.0f} s\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
