"""``python -m pipeline up``: Redis, N workers, the reconciler, Streamlit and the HTTP API on
one machine.

The UI and the API listen on 127.0.0.1 unless told otherwise; without a login configured the UI
is refused anywhere else (``access.check_ui_address``). Both run with ``CLIPINSIGHT_REQUIRE_CALLER``
so that every operation they make names its caller.

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
from pipeline.access import check_ui_address
from pipeline.redis_server import embedded
from pipeline.settings import Settings, get_settings

__all__ = ["Supervisor", "Child", "Endpoint", "streamlit_command", "api_command"]

log = logging.getLogger("clipinsight.supervisor")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_S = 10.0


@dataclass(frozen=True)
class Endpoint:
    """Where a server child listens."""

    address: str
    port: int

    @property
    def url(self) -> str:
        host = "localhost" if self.address in ("127.0.0.1", "localhost", "") else self.address
        return f"http://{host}:{self.port}"


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
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
        ui: Endpoint | None = Endpoint(defaults.BIND_ADDRESS, defaults.UI_PORT),
        api: Endpoint | None = Endpoint(defaults.BIND_ADDRESS, defaults.API_PORT),
    ):
        self.settings = settings or get_settings()
        if ui is not None:
            check_ui_address(ui.address, self.settings)
        self.ui, self.api = ui, api
        self.children = [Child(f"worker-{i + 1}", [sys.executable, "-m", "pipeline", "worker"]) for i in range(workers)]
        self.children.append(Child("reconciler", [sys.executable, "-m", "pipeline", "reconcile"]))
        entry_env = {"CLIPINSIGHT_REQUIRE_CALLER": "1", "CLIPINSIGHT_SECRETS_FILE": str(self.settings.secrets_file)}
        if ui is not None:
            self.children.append(Child("ui", streamlit_command(ui, self.settings.secrets_file), entry_env))
        if api is not None:
            self.children.append(Child("api", api_command(api), entry_env))
        self.stop_event = threading.Event()
        self.owns_redis = False

    def describe(self) -> list[str]:
        """What a person starting ``up`` should know: where to go, and who they are there."""
        lines = []
        if self.ui is not None:
            who = (
                "sign-in required" if self.settings.login_configured else "no login configured: you are the local owner"
            )
            lines.append(f"ClipInsight UI: {self.ui.url} ({who})")
        if self.api is not None:
            lines.append(f"ClipInsight API: {self.api.url}/api (OpenAPI at {self.api.url}/docs)")
        return lines

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
        env = {**os.environ, "CLIPINSIGHT_DATA_DIR": str(self.settings.data_dir), **child.env}
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


def streamlit_command(
    endpoint: Endpoint, secrets_file: Path | None = None, script: Path = PROJECT_ROOT / "app.py"
) -> list[str]:
    """How the UI is started (headless, no usage statistics, on the endpoint's address only, with
    the secrets file the package reads)."""
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.address",
        endpoint.address,
        "--server.port",
        str(endpoint.port),
        "--browser.gatherUsageStats",
        "false",
    ]
    if secrets_file is not None:
        command += ["--secrets.files", str(secrets_file)]
    return command


def api_command(endpoint: Endpoint) -> list[str]:
    """How the HTTP API is started: uvicorn serving ``pipeline.httpapi:create_app``."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "pipeline.httpapi:create_app",
        "--host",
        endpoint.address,
        "--port",
        str(endpoint.port),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "5",
    ]
