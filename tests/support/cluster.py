"""A real ClipInsight deployment for tests: the embedded Redis server, the storekeeper, worker
processes and the reconciler, each started exactly as ``python -m pipeline up`` starts them. While
it runs, the test process itself reaches the database through the storekeeper, as the UI does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from pipeline import queue
from pipeline.redis_server import embedded
from pipeline.settings import get_settings
from pipeline.store import announce_storekeeper, get_store

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Cluster:
    def __init__(self, env: dict[str, str] | None = None):
        self.env = {**os.environ, **(env or {})}
        self.workers: list[subprocess.Popen] = []
        self.reconciler: subprocess.Popen | None = None
        self.storekeeper: subprocess.Popen | None = None
        self.logs = Path(self.env["CLIPINSIGHT_DATA_DIR"]) / "test-logs"
        self.claims = ExitStack()

    def start(self, workers: int = 2, reconciler: bool = True) -> Cluster:
        if not get_settings().redis_url:
            embedded(get_settings()).start()
        self.logs.mkdir(parents=True, exist_ok=True)
        self.claims.enter_context(announce_storekeeper(get_settings()))
        self.start_storekeeper()
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

    def start_storekeeper(self) -> subprocess.Popen:
        """Start (or restart, after a kill) the storekeeper and wait until it answers."""
        self.storekeeper = self._spawn("storekeeper", "storekeeper")
        get_store(get_settings()).ping()
        return self.storekeeper

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
        _terminate([*self.workers, self.reconciler])
        _terminate([self.storekeeper])  # last, as `up` does: the others' writes land first
        self.claims.close()
        embedded(get_settings()).stop()

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))


def _terminate(processes: list[subprocess.Popen | None]) -> None:
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
