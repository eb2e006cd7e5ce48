"""``python -m pipeline up``: Redis, the storekeeper, N workers, the reconciler, Streamlit and the
HTTP API on one machine.

The UI and the API listen on 127.0.0.1 unless told otherwise; without a login configured the UI
is refused anywhere else (``access.check_ui_address``). Both run with ``CLIPINSIGHT_REQUIRE_CALLER``
so that every operation they make names its caller.

Each is a separate process. For as long as ``up`` runs, ``storekeeper.json`` in the data dir says
that the storekeeper owns the database, so every process goes through it, even while it restarts.
A child that dies is started again (with a growing pause if it keeps dying); Ctrl-C or SIGTERM
stops them all — workers get SIGTERM and a moment to finish their step before SIGKILL (an
interrupted step is run again by the reconciler next time).

*Services* (the embedded Redis, the storekeeper) are children the others need: they start first
and are ready before anything else starts, come back within a second of dying (their pause never
grows past ``max_pause_s``), and stop last, after the workers have finished their steps. Workers
wait for a service that is away (they reconnect; they never start their own Redis under ``up``)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import defaults, queue
from pipeline.access import check_ui_address
from pipeline.private import private_dir
from pipeline.redis_server import embedded
from pipeline.settings import Settings, get_settings
from pipeline.store import announce_storekeeper, get_store

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
    #: Started first, ready before the others, stopped last.
    service: bool = False
    #: Blocks until a freshly started child can serve (raises if it cannot).
    ready: Callable[[], None] | None = None
    #: The longest pause before restarting a child that keeps dying.
    max_pause_s: float = 8.0

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
        worker = [sys.executable, "-m", "pipeline", "worker"] + (
            [] if self.settings.redis_url else ["--wait-for-redis"]
        )
        keeper = Child("storekeeper", [sys.executable, "-m", "pipeline", "storekeeper"], service=True, max_pause_s=0.25)
        keeper.ready = lambda: get_store(self.settings).ping()  # the others start once the database answers
        self.children = [keeper] + [Child(f"worker-{i + 1}", worker) for i in range(workers)]
        self.children.append(Child("reconciler", [sys.executable, "-m", "pipeline", "reconcile"]))
        entry_env = {"CLIPINSIGHT_REQUIRE_CALLER": "1", "CLIPINSIGHT_SECRETS_FILE": str(self.settings.secrets_file)}
        if ui is not None:
            self.children.append(
                Child("ui", streamlit_command(ui, self.settings.secrets_file, settings=self.settings), entry_env)
            )
        if api is not None:
            self.children.append(Child("api", api_command(api), entry_env))
        self.stop_event = threading.Event()
        self.claims = ExitStack()

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
        private_dir(self.settings.data_dir)
        self.claims.enter_context(announce_storekeeper(self.settings))
        if not self.settings.redis_url:
            self._supervise_embedded_redis()
        for child in sorted(self.children, key=lambda c: not c.service):
            self._spawn(child)
        queue.redis_client(self.settings)  # fail now, clearly, if Redis is not there
        log.info("started %s", ", ".join(c.name for c in self.children))

    def _supervise_embedded_redis(self) -> None:
        server = embedded(self.settings)
        if server.running():  # a server another command started: use it, it is not ours to restart
            print(f"using the Redis server already running in {server.directory}", file=sys.stderr, flush=True)
            return
        child = Child("redis", server.foreground_command(), service=True, ready=server.wait_ready, max_pause_s=0.25)
        self.children.insert(0, child)

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
                pause = 0.0 if ran_for > 30 else min(2.0 ** min(child.restarts, 5) * 0.25, child.max_pause_s)
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
        if child.ready is not None:
            try:
                child.ready()
            except Exception as exc:  # it is restarted by the next tend() if it died
                print(f"{child.name} is not ready: {exc}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        """SIGTERM the children, services last (workers finish their step while Redis is up)."""
        self._stop_all([c for c in self.children if not c.service])
        self._stop_all([c for c in self.children if c.service])
        self.claims.close()
        print("ClipInsight stopped.", file=sys.stderr, flush=True)

    def _stop_all(self, children: list[Child]) -> None:
        running = [c for c in children if c.alive()]
        for child in running:
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in running:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()


def streamlit_command(
    endpoint: Endpoint,
    secrets_file: Path | None = None,
    script: Path = PROJECT_ROOT / "app.py",
    settings: Settings | None = None,
) -> list[str]:
    """How the UI is started: headless, no usage statistics, on the endpoint's address only, with
    the secrets file the package reads, and the product's upload cap as Streamlit's (so the
    uploader states the limit the product enforces)."""
    settings = settings or get_settings()
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
        "--server.maxUploadSize",
        str(settings.max_upload_mb),
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
