"""A real ClipInsight deployment for tests: the embedded Redis server, worker processes and
the reconciler, each started exactly as ``python -m pipeline up`` starts them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipeline import queue
from pipeline.redis_server import embedded
from pipeline.settings import get_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Cluster:
    def __init__(self, env: dict[str, str] | None = None):
        self.env = {**os.environ, **(env or {})}
        self.workers: list[subprocess.Popen] = []
        self.reconciler: subprocess.Popen | None = None
        self.logs = Path(self.env["CLIPINSIGHT_DATA_DIR"]) / "test-logs"

    def start(self, workers: int = 2, reconciler: bool = True) -> Cluster:
        if not get_settings().redis_url:
            embedded(get_settings()).start()
        self.logs.mkdir(parents=True, exist_ok=True)
        for _ in range(workers):
            self.add_worker()
        if reconciler:
            self.reconciler = self._spawn("reconcile", "reconciler")
        self.wait_for_workers(workers)
        return self

    def _spawn(self, command: str, label: str) -> subprocess.Popen:
        log = open(self.logs / f"{label}-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 (the child owns it)
        return subprocess.Popen(
            [sys.executable, "-m", "pipeline", command],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def add_worker(self) -> subprocess.Popen:
        process = self._spawn("worker", "worker")
        self.workers.append(process)
        return process

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        conn = queue.redis_client(get_settings())
        deadline = time.monotonic() + timeout
        while len(queue.live_workers(conn)) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not start; see {self.logs}")
            time.sleep(0.1)

    def kill(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in [*self.workers, self.reconciler]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, self.reconciler]:
            if process is None:
                continue
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        embedded(get_settings()).stop()

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))
