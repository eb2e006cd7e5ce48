"""A local HTTP server that records what it receives, for webhook tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder:
    """Answers POSTs with the codes from ``replies`` in turn (then 200) and records each."""

    def __init__(self, replies: list[int] | None = None):
        self.requests: list[dict] = []
        self.replies = list(replies or [])
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next_code(self) -> int:
        with self._lock:
            return self.replies.pop(0) if self.replies else 200

    def _handler(self) -> Callable:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                code = recorder._next_code()
                recorder.requests.append({"headers": dict(self.headers), "body": body, "code": code})
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler
