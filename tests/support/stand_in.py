"""What the local stand-ins for remote model services share: a threaded HTTP server on a free
loopback port, replies scripted per task, and faults drawn at random (seeded) the way an
overloaded service answers: half "slow down" (429 with Retry-After), half "unavailable" (503)."""

from __future__ import annotations

import random
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["StandIn"]


class StandIn:
    """Subclasses give ``handler()`` (the protocol) and use ``next_script`` and ``draw_fault``."""

    name = "stand-in"

    def __init__(self, *, fault_rate: float = 0.0, seed: int = 0, echo_injection: bool = False):
        self.fault_rate, self.echo_injection = fault_rate, echo_injection
        self.faults_injected = 0
        self._faults = random.Random(seed)
        self._scripts: dict[str | None, deque] = defaultdict(deque)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    # lifecycle
    def start(self):
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name=self.name, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    # scripting
    def script(self, task: str | None, *replies: object | Callable) -> None:
        """Queue replies for the next calls of ``task`` (None: any task)."""
        with self._lock:
            self._scripts[task].extend(replies)

    def next_script(self, task: str | None):
        with self._lock:
            for key in (task, None):
                if self._scripts[key]:
                    return self._scripts[key].popleft()
        return None

    # faults
    def draw_fault(self) -> str | None:
        """``"rate_limited"``, ``"overloaded"`` or None, at ``fault_rate``."""
        with self._lock:
            if self.fault_rate <= 0 or self._faults.random() >= self.fault_rate:
                return None
            self.faults_injected += 1
            return "overloaded" if self._faults.random() < 0.5 else "rate_limited"
