"""A local HTTP server that records what it receives, for webhook tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = int | tuple[int, dict[str, str]]


class Recorder:
    """Answers requests with the replies from ``replies`` in turn (then 200) and records each; a
    reply is a status code, or a code with headers (a redirect's Location, a Retry-After)."""

    def __init__(self, replies: list[Reply] | None = None):
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

    def _next_reply(self) -> tuple[int, dict[str, str]]:
        with self._lock:
            reply = self.replies.pop(0) if self.replies else 200
        return reply if isinstance(reply, tuple) else (reply, {})

    def _handler(self) -> Callable:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._answer(body)

            def do_GET(self):  # noqa: N802
                self._answer(b"")

            def _answer(self, body: bytes) -> None:
                code, headers = recorder._next_reply()
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                        "code": code,
                    }
                )
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler
