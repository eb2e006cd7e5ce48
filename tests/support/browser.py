"""End-to-end helpers: the whole product started as ``python -m pipeline up`` on a free port, and
real Chromium (the Debian package; Playwright's own browser download is not used) to drive it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from pipeline import api
from pipeline.settings import get_settings

__all__ = ["Product", "CHROMIUM_ARGS", "chromium_path", "SCREENSHOTS", "free_port"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Product:
    """``python -m pipeline up`` with the test's data dir: Redis, workers, reconciler, the UI and
    the HTTP API, each on a free port."""

    def __init__(self, data_dir: Path, workers: int = 2, **env: str):
        self.data_dir = Path(data_dir)
        self.workers = workers
        self.port = free_port()
        self.api_port = free_port()
        self.env = {**os.environ, "CLIPINSIGHT_DATA_DIR": str(self.data_dir), **env}
        self.log_path = self.data_dir.parent / "up.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self, timeout: float = 90) -> Product:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            *(sys.executable, "-m", "pipeline", "up", "--workers", str(self.workers)),
            *("--port", str(self.port), "--api-port", str(self.api_port)),
        ]
        with open(self.log_path, "w") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready(time.monotonic() + timeout)
        return self

    def _wait_ready(self, deadline: float) -> None:
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the product did not start:\n{self.log()[-3000:]}")
            time.sleep(0.25)

    def _ready(self) -> bool:
        return (
            self._answers(f"{self.url}/_stcore/health")
            and self._answers(f"{self.api_url}/openapi.json")
            and len(api.workers_alive(get_settings())) >= self.workers
        )

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def processes(self) -> list[psutil.Process]:
        """``up`` itself, its children (workers, reconciler, Streamlit) and the embedded Redis."""
        root = psutil.Process(self.process.pid)
        found = [root, *root.children(recursive=True)]
        pid_file = self.data_dir / "redis" / "redis.pid"
        if pid_file.exists():
            found.append(psutil.Process(int(pid_file.read_text().strip())))
        return found

    def stop(self, timeout: float = 30) -> list[str]:
        """SIGTERM to ``up``, as Ctrl-C or a service manager does; what is still alive after."""
        everything = self.processes()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass  # reported below as still alive, then killed so no test leaves processes behind
        gone, alive = psutil.wait_procs(everything, timeout=10)
        left = [f"{p.pid} {p.name()}" for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        for process in alive:
            process.kill()
        return left
