"""A local server that speaks OpenAI's chat-completions protocol the way the ``openai`` SDK sends
it (as Ollama, llama.cpp's server, vLLM and OpenAI itself answer it).

What it serves: ``POST /v1/chat/completions`` with ``choices[0].message.content``,
``finish_reason`` and ``usage``; errors in OpenAI's shape (``{"error": {"message", "type",
"code"}}``) with the status a real server uses. It behaves as real servers do where the adapter
depends on it:

- ``structured="json_schema"`` (OpenAI, vLLM, recent llama.cpp) accepts
  ``response_format={"type": "json_schema"}``; ``"json_object"`` (older servers) answers that
  with a 400 but accepts ``{"type": "json_object"}``; ``"none"`` refuses any ``response_format``
  (400), so the schema must be in the prompt.
- The task is read from the schema's name, or, without one, from the schema in the system text.

Behaviour is scripted per task, as the Gemini stand-in's is (:mod:`tests.support.gemini_server`);
with nothing scripted the answer is the smart one (:mod:`tests.support.llm_answers`).
``fault_rate`` answers that share of calls 429 (with Retry-After) or 503 at random;
``echo_injection`` makes drafts repeat the transcript's planted lines, as a compromised model
would. Every request is recorded.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.support.llm_answers import CHARS_PER_TOKEN, TASKS, Question, smart_answer
from tests.support.stand_in import StandIn

__all__ = ["OpenAIServer", "Reply", "Recorded", "answer", "error", "smart_payload"]


@dataclass
class Reply:
    status: int = 200
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    smart: bool = False


def _completion(text: str, finish: str = "stop", model: str = "local-model") -> dict:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
    }


def answer(payload: dict | str, *, finish: str = "stop") -> Reply:
    """A 200 answer whose content is ``payload`` (a dict is sent as JSON text)."""
    return Reply(body=_completion(payload if isinstance(payload, str) else json.dumps(payload), finish))


def error(status: int, message: str, *, kind: str = "server_error", retry_after: float | None = None) -> Reply:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return Reply(status=status, body=body, headers={"Retry-After": f"{retry_after:g}"} if retry_after else {})


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict
    task: str | None = None
    reply: Reply | None = None

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages") or []

    @property
    def system(self) -> str:
        return "\n".join(m.get("content", "") for m in self.messages if m.get("role") == "system")

    @property
    def user(self) -> str:
        return "\n".join(m.get("content", "") for m in self.messages if m.get("role") == "user")

    @property
    def roles(self) -> list[str]:
        return [m.get("role", "") for m in self.messages]

    @property
    def response_format(self) -> dict | None:
        return self.body.get("response_format")

    def question(self, echo_injection: bool = False) -> Question:
        return Question(self.task, self.system, self.user, echo_injection)


Script = Reply | Callable[[Recorded], "Reply | None"]
_SCHEMA_TITLE = re.compile(r'"title":\s*"(\w+Answer)"')


def _task_of(body: dict) -> str | None:
    response_format = body.get("response_format") or {}
    name = (response_format.get("json_schema") or {}).get("name")
    if name:
        return TASKS.get(name)
    system = "\n".join(m.get("content", "") for m in body.get("messages") or [] if m.get("role") == "system")
    titles = _SCHEMA_TITLE.findall(system)
    return TASKS.get(titles[-1]) if titles else None


class OpenAIServer(StandIn):
    """Start with ``with OpenAIServer() as server:``; point ``OPENAI_BASE_URL`` at ``base_url``."""

    name = "openai-server"

    def __init__(
        self,
        *,
        structured: str = "json_schema",
        fault_rate: float = 0.0,
        seed: int = 0,
        echo_injection: bool = False,
        retry_after_s: float = 0.2,
    ):
        super().__init__(fault_rate=fault_rate, seed=seed, echo_injection=echo_injection)
        self.structured, self.retry_after_s = structured, retry_after_s
        self.requests: list[Recorded] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def calls(self, task: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if task is None or r.task == task]

    def complete(self, request: Recorded) -> Reply:
        refused = self._refused_format(request)
        if refused is not None:
            return refused
        fault = self._fault()
        if fault is not None:
            return fault
        script = self.next_script(request.task)
        reply = script(request) if callable(script) else script
        if reply is None or reply.smart:
            payload = smart_answer(request.question(self.echo_injection))
            reply = answer(payload if payload is not None else "Hello from the local model server.")
        return self._with_usage(request, reply)

    def _refused_format(self, request: Recorded) -> Reply | None:
        kind = (request.response_format or {}).get("type")
        allowed = {"json_schema": ("json_schema", "json_object"), "json_object": ("json_object",), "none": ()}
        if kind and kind not in allowed[self.structured]:
            return error(
                400, f"response_format type {kind!r} is not supported by this server", kind="invalid_request_error"
            )
        return None

    def _fault(self) -> Reply | None:
        fault = self.draw_fault()
        if fault == "overloaded":
            return error(503, "The server is overloaded; try again later.")
        if fault == "rate_limited":
            return error(429, "Rate limit reached.", kind="rate_limit_error", retry_after=self.retry_after_s)
        return None

    def _with_usage(self, request: Recorded, reply: Reply) -> Reply:
        body = reply.body
        if reply.status != 200 or not body or "choices" not in body or "usage" in body:
            return reply
        text = body["choices"][0]["message"].get("content") or ""
        prompt = math.ceil(sum(len(m.get("content", "")) for m in request.messages) / CHARS_PER_TOKEN)
        completion = math.ceil(len(text) / CHARS_PER_TOKEN)
        body["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        return reply


def smart_payload(request: Recorded) -> dict:
    return smart_answer(request.question())


def _handler_for(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return self._send(error(400, "the body is not JSON", kind="invalid_request_error"))
            request = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body, _task_of(body))
            with server._lock:
                server.requests.append(request)
            if self.path.split("?", 1)[0] != "/v1/chat/completions":
                return self._send(error(404, f"no route for POST {self.path}", kind="invalid_request_error"))
            request.reply = server.complete(request)
            self._send(request.reply)

        def _send(self, reply: Reply) -> None:
            payload = json.dumps(reply.body or {}).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler
