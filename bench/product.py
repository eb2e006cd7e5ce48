"""The product as a user runs it, for a benchmark that does things to it: ``python -m pipeline up``
in a scratch data dir (its Redis, storekeeper, workers and reconciler as real child processes),
runs submitted through ``pipeline.api`` as the CLI submits them, and the run tables read back
with read-only SQL through the storekeeper.

Nothing here changes the product: a benchmark kills its children, points it at a stand-in or
feeds it hostile input, and reads what happened from the same tables a user's pages read.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = [
    "ROOT",
    "SAMPLES",
    "running_up",
    "scratch_data_dir",
    "child_pids",
    "roomy_plan",
    "submit_transcript",
    "wait_all",
    "load_average",
    "OFFLINE",
    "gemini_env",
]

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
#: ``up`` on the offline providers, never a real service, whatever the shell's environment holds.
OFFLINE = {"CLIPINSIGHT_PROVIDER": "local"}
#: The plan benchmarks run on: room for a few hundred runs of the samples in one month.
BENCH_PLAN = "studio"


class running_up:  # noqa: N801 (used as a context manager, like open)
    """``python -m pipeline up --no-ui --workers N`` in the current data dir, with ``env`` added to
    its environment, until the block ends (SIGTERM, as Ctrl-C would)."""

    def __init__(self, workers: int, **env: str):
        self.workers, self.env = workers, env

    def __enter__(self) -> subprocess.Popen:
        from bench.deploy import wait_for_workers

        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "up", "--no-ui", "--workers", str(self.workers)],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not child_pids(self.process, "redis-server"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("up did not start Redis")
            time.sleep(0.1)
        time.sleep(0.5)
        wait_for_workers(self.workers)
        return self.process

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


class scratch_data_dir:  # noqa: N801
    """A temp data dir for this process and the ones it starts."""

    def __enter__(self) -> Path:
        from pipeline.process import forget_cached_state

        self.tmp = tempfile.TemporaryDirectory(prefix="clipinsight-chaos-")
        self.saved = os.environ.get("CLIPINSIGHT_DATA_DIR")
        path = Path(self.tmp.name) / "data"
        os.environ["CLIPINSIGHT_DATA_DIR"] = str(path)
        forget_cached_state()
        return path

    def __exit__(self, *exc) -> None:
        from pipeline.process import forget_cached_state

        if self.saved is None:
            os.environ.pop("CLIPINSIGHT_DATA_DIR", None)
        else:
            os.environ["CLIPINSIGHT_DATA_DIR"] = self.saved
        forget_cached_state()
        self.tmp.cleanup()


def child_pids(up: subprocess.Popen, marker: str) -> set[int]:
    """Live (not zombie) descendants of ``up`` whose command line contains ``marker``."""
    import psutil

    pids = set()
    for child in psutil.Process(up.pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and marker in " ".join(child.cmdline()):
                pids.add(child.pid)
        except psutil.Error:
            continue
    return pids


def roomy_plan(workspace: str = "default") -> None:
    """Put ``workspace`` on a plan whose monthly minutes a benchmark's runs fit in (minutes are
    reserved when a run is submitted, so 50 runs of a 14-minute talk need more than 600)."""
    from pipeline import api

    api.configure_workspace(workspace, plan=BENCH_PLAN)


def submit_transcript(path: Path, number: int, **options) -> str:
    """Submit ``path`` as run ``number``; the number goes into the call-to-action link so every
    run is its own job (the same source with the same options would join the active job)."""
    from pipeline import api
    from pipeline.options import JobOptions

    options = JobOptions(cta_url=f"https://example.com/chaos/{number}", **options)
    return api.submit(transcript=path.read_bytes(), transcript_name=path.name, options=options).job_id


def wait_all(jobs: list[str], timeout: float = 900) -> list[str]:
    """The final status of each job (waiting for all of them within ``timeout`` in total)."""
    from pipeline import api

    deadline, statuses = time.monotonic() + timeout, []
    for job in jobs:
        try:
            statuses.append(api.wait_for(job, timeout=max(1.0, deadline - time.monotonic()))["status"])
        except TimeoutError:
            statuses.append(f"{api.status_report(job)['status']} (still, after {timeout:.0f} s)")
    return statuses


def load_average() -> str:
    """The 1-minute load average and the cores, as a row's figure."""
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def gemini_env(base_url: str) -> dict[str, str]:
    """``up`` on the Gemini provider against a stand-in at ``base_url``, with rate limits that
    never make it wait and a short first pause before a failed call is tried again."""
    return {
        "CLIPINSIGHT_PROVIDER": "gemini",
        "GEMINI_API_KEY": "chaos-bench",
        "GEMINI_BASE_URL": base_url,
        "GEMINI_RPM": "100000",
        "GEMINI_TPM": "1000000000",
        "CLIPINSIGHT_CALL_RETRY_INITIAL_S": "0.05",
    }
