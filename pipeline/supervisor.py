"""``python -m pipeline up``: Redis, N workers, the reconciler and Streamlit on one machine.

Each is a separate process. A child that dies is started again (with a growing pause if it
keeps dying); Ctrl-C or SIGTERM stops them all — workers get SIGTERM and a moment to finish
their step before SIGKILL (an interrupted step is run again by the reconciler next time).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import defaults, queue
from pipeline.redis_server import embedded
from pipeline.settings import Settings, get_settings

__all__ = ["Supervisor", "Child", "streamlit_command"]

log = logging.getLogger("clipinsight.supervisor")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_S = 10.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        workers: int = defaults.WORKERS,
        ui: bool = True,
        port: int = defaults.UI_PORT,
    ):
        self.settings = settings or get_settings()
        self.children = [Child(f"worker-{i + 1}", [sys.executable, "-m", "pipeline", "worker"]) for i in range(workers)]
        self.children.append(Child("reconciler", [sys.executable, "-m", "pipeline", "reconcile"]))
        if ui:
            self.children.append(Child("ui", streamlit_command(port, settings=self.settings)))
        self.stop_event = threading.Event()
        self.owns_redis = False

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())
        self.start()
        try:
            while not self.stop_event.wait(0.25):
                self.tend()
        finally:
            self.stop()
        return 0

    def start(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.settings.redis_url:
            self.owns_redis = embedded(self.settings).start()
        queue.redis_client(self.settings)  # fail now, clearly, if Redis is not there
        for child in self.children:
            self._spawn(child)
        log.info("started %s", ", ".join(c.name for c in self.children))

    def tend(self) -> None:
        """Restart children that died, pausing longer each time one keeps dying."""
        now = time.monotonic()
        for child in self.children:
            if child.alive() or now < child.next_start:
                continue
            if child.process is not None:
                code = child.process.returncode
                child.restarts += 1
                ran_for = now - child.started_at
                pause = 0.0 if ran_for > 30 else min(2.0 ** min(child.restarts, 5) * 0.25, 8.0)
                child.next_start, child.process = now + pause, None
                print(
                    f"{child.name} exited with code {code}; restarting" + (f" in {pause:.1f} s" if pause else ""),
                    file=sys.stderr,
                    flush=True,
                )
                continue
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        env = {**os.environ, "CLIPINSIGHT_DATA_DIR": str(self.settings.data_dir)}
        child.process = subprocess.Popen(child.argv, cwd=PROJECT_ROOT, env=env, start_new_session=True)
        child.started_at = time.monotonic()

    def stop(self) -> None:
        running = [c for c in self.children if c.alive()]
        for child in running:
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in running:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
        if self.owns_redis:
            embedded(self.settings).stop()
        print("ClipInsight stopped.", file=sys.stderr, flush=True)


def streamlit_command(port: int, script: Path = PROJECT_ROOT / "app.py", settings: Settings | None = None) -> list[str]:
    """How the UI is started: headless, no usage statistics, and the product's upload cap as
    Streamlit's (so the uploader states the limit the product enforces)."""
    settings = settings or get_settings()
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.maxUploadSize",
        str(settings.max_upload_mb),
        "--browser.gatherUsageStats",
        "false",
    ]
