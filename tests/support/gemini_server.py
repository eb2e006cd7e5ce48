"""A local server that speaks the Gemini REST protocol the way google-genai sends it.

What it serves (any API version prefix: ``v1``, ``v1beta``):

- ``POST /{version}/models/{model}:generateContent``: the answer as
  ``candidates[0].content.parts[0].text`` with ``finishReason`` and ``usageMetadata``.
- The Files API: ``POST /upload/{version}/files`` (resumable start, answered with an
  ``X-Goog-Upload-URL``), ``POST`` to that URL (``upload`` / ``upload, finalize`` chunks),
  ``GET /{version}/files/{id}`` (PROCESSING for the first polls, then ACTIVE) and ``DELETE``.

It behaves as the real service does where tests depend on it: a schema without
``responseMimeType: application/json`` is a 400, a file that is not ACTIVE cannot be used, errors
have Google's JSON error shape. Behaviour is scripted per test: replies queued for a task
(``insights``, ``newsletter``, ``blog``, ``x_thread``, ``linkedin``, ``judge``, ``transcribe``)
or for any task, each a :class:`Reply` or a function of the request. With nothing queued the
server is "smart": it builds a valid answer from the request itself — quotes and summaries are
real sentences of the fenced transcript, drafts are composed from the fenced insight pack within
the platform limits, audio is "transcribed" as a fixed script. Every request is recorded.

Token accounting follows Gemini's rule of thumb: a token is about four characters of text, and a
second of audio is 32 tokens.
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

from tests.support.llm_answers import CHARS_PER_TOKEN, SCRIPT, TASKS, Question, smart_answer
from tests.support.stand_in import StandIn

__all__ = [
    "GeminiServer",
    "Reply",
    "Recorded",
    "answer",
    "error",
    "blocked",
    "stopped",
    "slow",
    "smart_payload",
    "TASKS",
    "SCRIPT",
    "CHARS_PER_TOKEN",
]

AUDIO_TOKENS_PER_SECOND = 32
#: Compressed audio is about 16 kB per second (what the server assumes for non-WAV uploads).
AUDIO_BYTES_PER_SECOND = 16_000

# --- Replies -------------------------------------------------------------------------------


@dataclass
class Reply:
    """One canned HTTP answer. ``smart`` means "the smart answer, after ``delay_s``"."""

    status: int = 200
    body: dict | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    smart: bool = False


def _usage(prompt_tokens: int, answer_text: str, audio_tokens: int = 0) -> dict:
    details = [{"modality": "TEXT", "tokenCount": prompt_tokens - audio_tokens}]
    if audio_tokens:
        details.append({"modality": "AUDIO", "tokenCount": audio_tokens})
    output = math.ceil(len(answer_text) / CHARS_PER_TOKEN)
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output,
        "totalTokenCount": prompt_tokens + output,
        "promptTokensDetails": details,
    }


def _candidate_body(text: str, finish: str = "STOP") -> dict:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish, "index": 0}],
        "modelVersion": "gemini-2.5-flash",
        "responseId": uuid.uuid4().hex[:16],
    }


def answer(payload: dict | str, *, finish: str = "STOP") -> Reply:
    """A 200 answer whose text is ``payload`` (a dict is sent as JSON text; a str as written)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return Reply(body=_candidate_body(text, finish))


def error(
    status: int, status_name: str, message: str, *, retry_after: float | None = None, details: list[dict] | None = None
) -> Reply:
    """An error in Google's shape, optionally with a Retry-After header."""
    body = {"error": {"code": status, "message": message, "status": status_name, "details": details or []}}
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return Reply(status=status, body=body, headers=headers)


def blocked(reason: str = "SAFETY") -> Reply:
    """The prompt itself was blocked: no candidates, only ``promptFeedback.blockReason``."""
    ratings = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]
    return Reply(
        body={
            "promptFeedback": {"blockReason": reason, "safetyRatings": ratings},
            "usageMetadata": {"promptTokenCount": 100, "totalTokenCount": 100},
        }
    )


def stopped(reason: str = "SAFETY", text: str = "") -> Reply:
    """The answer was stopped mid-way with ``finishReason`` = ``reason``."""
    body = _candidate_body(text, reason)
    if not text:
        body["candidates"][0]["content"] = {"role": "model"}
    return Reply(body=body)


def slow(seconds: float, reply: Reply | None = None) -> Reply:
    """``reply`` (the smart answer when None) after ``seconds``."""
    if reply is None:
        return Reply(delay_s=seconds, smart=True)
    reply.delay_s = seconds
    return reply


# --- Requests ------------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    size: int
    task: str | None = None
    reply: Reply | None = None  # what the server answered (generateContent)

    @property
    def usage(self) -> dict:
        body = self.reply.body if self.reply else None
        return body.get("usageMetadata", {}) if isinstance(body, dict) else {}

    @property
    def system(self) -> str:
        parts = ((self.body or {}).get("systemInstruction") or {}).get("parts") or []
        return "".join(p.get("text", "") for p in parts)

    @property
    def user(self) -> str:
        """The text of the user turns, in order."""
        contents = (self.body or {}).get("contents") or []
        return "\n".join(p.get("text", "") for c in contents if c.get("role") == "user" for p in c.get("parts", []))

    @property
    def turns(self) -> list[str]:
        return [c.get("role", "") for c in (self.body or {}).get("contents") or []]

    @property
    def schema(self) -> dict:
        config = (self.body or {}).get("generationConfig") or {}
        return config.get("responseSchema") or config.get("responseJsonSchema") or {}

    @property
    def config(self) -> dict:
        return (self.body or {}).get("generationConfig") or {}

    def question(self, echo_injection: bool = False) -> Question:
        return Question(self.task, self.system, self.user, echo_injection)

    def fenced(self, label: str) -> str | None:
        """The data between ``<<<BEGIN label id>>>`` and ``<<<END label id>>>``, if any."""
        return self.question().fenced(label)


@dataclass
class StoredFile:
    name: str
    mime_type: str
    display_name: str
    data: bytearray = field(default_factory=bytearray)
    size: int = 0
    polls_left: int = 1
    deleted: bool = False

    @property
    def state(self) -> str:
        return "PROCESSING" if self.polls_left > 0 else "ACTIVE"

    def resource(self, base_url: str) -> dict:
        return {
            "name": self.name,
            "displayName": self.display_name,
            "mimeType": self.mime_type,
            "sizeBytes": str(len(self.data)),
            "state": self.state,
            "uri": f"{base_url}/v1beta/{self.name}",
            "createTime": "2026-01-01T00:00:00Z",
            "source": "UPLOADED",
        }

    @property
    def duration_s(self) -> float:
        if self.mime_type in ("audio/wav", "audio/x-wav") and len(self.data) > 44:
            rate = int.from_bytes(self.data[28:32], "little")  # byte rate field of the WAV header
            return (len(self.data) - 44) / rate if rate else 0.0
        return len(self.data) / AUDIO_BYTES_PER_SECOND


Script = Reply | Callable[[Recorded], "Reply | None"]


# --- The server ----------------------------------------------------------------------------


class GeminiServer(StandIn):
    """Start with ``with GeminiServer() as server:`` (or ``start()``/``stop()``).

    ``fault_rate``: the share of generateContent calls answered 429 (with a Retry-After) or 503
    at random (seeded by ``seed``), as an overloaded service does. ``echo_injection``: drafts
    repeat the transcript's planted lines, as a compromised model would."""

    name = "gemini-server"

    def __init__(
        self,
        *,
        processing_polls: int = 1,
        fault_rate: float = 0.0,
        seed: int = 0,
        echo_injection: bool = False,
        retry_after_s: float = 0.2,
    ):
        super().__init__(fault_rate=fault_rate, seed=seed, echo_injection=echo_injection)
        self.processing_polls, self.retry_after_s = processing_polls, retry_after_s
        self.requests: list[Recorded] = []
        self.files: dict[str, StoredFile] = {}
        self._uploads: dict[str, StoredFile] = {}

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def generate_calls(self, task: str | None = None) -> list[Recorded]:
        with self._lock:
            calls = [r for r in self.requests if r.path.endswith(":generateContent")]
        return [r for r in calls if task is None or r.task == task]

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    # generateContent
    def generate(self, request: Recorded) -> Reply:
        problem = self._check_request(request)
        if problem is not None:
            return problem
        fault = self._fault()
        if fault is not None:
            request.reply = fault
            return fault
        script = self.next_script(request.task)
        reply = script(request) if callable(script) else script
        if reply is None or reply.smart:
            delay = reply.delay_s if reply else 0.0
            reply = self.smart_reply(request)
            reply.delay_s = delay
        request.reply = self._with_usage(request, reply)
        return request.reply

    def _fault(self) -> Reply | None:
        fault = self.draw_fault()
        if fault == "overloaded":
            return error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
        if fault == "rate_limited":
            return error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted.", retry_after=self.retry_after_s)
        return None

    def _check_request(self, request: Recorded) -> Reply | None:
        config = request.config
        if request.schema and config.get("responseMimeType") != "application/json":
            return error(400, "INVALID_ARGUMENT", "responseSchema requires responseMimeType application/json")
        for uri in _file_uris(request.body):
            stored = self.files.get("files/" + uri.rsplit("/", 1)[-1])
            if stored is None or stored.deleted:
                return error(403, "PERMISSION_DENIED", f"You do not have permission to access the File {uri}")
            if stored.state != "ACTIVE":
                return error(400, "FAILED_PRECONDITION", f"The File {uri} is not in an ACTIVE state")
        return None

    def _with_usage(self, request: Recorded, reply: Reply) -> Reply:
        body = reply.body
        if reply.status != 200 or not isinstance(body, dict) or "candidates" not in body or "usageMetadata" in body:
            return reply
        parts = body["candidates"][0].get("content", {}).get("parts") or [{}]
        audio = sum(round(f.duration_s * AUDIO_TOKENS_PER_SECOND) for f in self._files_of(request))
        prompt_tokens = math.ceil((len(request.system) + len(request.user)) / CHARS_PER_TOKEN) + audio
        body["usageMetadata"] = _usage(prompt_tokens, parts[0].get("text", ""), audio)
        return reply

    def _files_of(self, request: Recorded) -> list[StoredFile]:
        names = ("files/" + uri.rsplit("/", 1)[-1] for uri in _file_uris(request.body))
        return [self.files[n] for n in names if n in self.files]

    def smart_reply(self, request: Recorded) -> Reply:
        payload = smart_answer(request.question(self.echo_injection))
        return answer(payload if payload is not None else "Hello from the local Gemini server.")

    # Files API
    def start_upload(self, request: Recorded) -> Reply:
        metadata = (request.body or {}).get("file") or {}
        headers = request.headers
        upload_id = uuid.uuid4().hex[:12]
        stored = StoredFile(
            name=f"files/{uuid.uuid4().hex[:10]}",
            mime_type=headers.get("x-goog-upload-header-content-type") or metadata.get("mime_type", ""),
            display_name=metadata.get("display_name") or headers.get("x-goog-upload-file-name", ""),
            size=int(headers.get("x-goog-upload-header-content-length") or 0),
            polls_left=self.processing_polls,
        )
        with self._lock:
            self._uploads[upload_id] = stored
        url = f"{self.base_url}/upload/session/{upload_id}"
        return Reply(headers={"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"}, body={})

    def upload_chunk(self, upload_id: str, command: str, offset: int, data: bytes) -> Reply:
        stored = self._uploads.get(upload_id)
        if stored is None or offset != len(stored.data):
            return error(400, "INVALID_ARGUMENT", "unknown upload session or wrong offset")
        stored.data.extend(data)
        if "finalize" not in command:
            return Reply(headers={"X-Goog-Upload-Status": "active"}, body={})
        with self._lock:
            self.files[stored.name] = self._uploads.pop(upload_id)
        return Reply(headers={"X-Goog-Upload-Status": "final"}, body={"file": stored.resource(self.base_url)})

    def get_file(self, name: str) -> Reply:
        stored = self.files.get(name)
        if stored is None or stored.deleted:
            return error(404, "NOT_FOUND", f"File {name} not found")
        resource = stored.resource(self.base_url)
        stored.polls_left -= 1
        return Reply(body=resource)

    def delete_file(self, name: str) -> Reply:
        stored = self.files.get(name)
        if stored is None or stored.deleted:
            return error(404, "NOT_FOUND", f"File {name} not found")
        stored.deleted = True
        return Reply(body={})


def _file_uris(body: dict | None) -> list[str]:
    contents = (body or {}).get("contents") or []
    # google-genai sends the inner fields in snake_case (``file_uri``); the API accepts both spellings.
    found = [p["fileData"] for c in contents for p in c.get("parts", []) if "fileData" in p]
    return [data.get("fileUri") or data.get("file_uri", "") for data in found]


# --- HTTP ----------------------------------------------------------------------------------

_GENERATE = re.compile(r"^/v1\w*/models/([^/:]+):generateContent$")
_FILE = re.compile(r"^/v1\w*/(files/[\w-]+)$")
_UPLOAD_START = re.compile(r"^/upload/v1\w*/files$")
_UPLOAD_SESSION = re.compile(r"^/upload/session/(\w+)$")


def _handler_for(server: GeminiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # keep test output clean
            pass

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = self._recorded("POST", raw)
            path = self.path.split("?", 1)[0]
            if _UPLOAD_SESSION.match(path):
                command = self.headers.get("X-Goog-Upload-Command", "")
                offset = int(self.headers.get("X-Goog-Upload-Offset") or 0)
                return self._send(server.upload_chunk(_UPLOAD_SESSION.match(path).group(1), command, offset, raw))
            if _UPLOAD_START.match(path):
                return self._send(server.start_upload(request))
            if _GENERATE.match(path):
                return self._send(server.generate(request))
            return self._send(error(404, "NOT_FOUND", f"no route for POST {path}"))

        def do_GET(self):
            self._recorded("GET", b"")
            match = _FILE.match(self.path.split("?", 1)[0])
            self._send(server.get_file(match.group(1)) if match else error(404, "NOT_FOUND", self.path))

        def do_DELETE(self):
            self._recorded("DELETE", b"")
            match = _FILE.match(self.path.split("?", 1)[0])
            self._send(server.delete_file(match.group(1)) if match else error(404, "NOT_FOUND", self.path))

        def _recorded(self, method: str, raw: bytes) -> Recorded:
            body = None
            if raw and "json" in (self.headers.get("Content-Type") or "") and not self.path.startswith("/upload/s"):
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
            request = Recorded(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body, len(raw))
            request.task = TASKS.get(request.schema.get("title", "")) if body else None
            server._record(request)
            return request

        def _send(self, reply: Reply) -> None:
            if reply.delay_s:
                time.sleep(reply.delay_s)
            data = reply.body if isinstance(reply.body, str) else json.dumps(reply.body or {})
            payload = data.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass

    return Handler


def smart_payload(request: Recorded) -> dict:
    """The smart answer's JSON for ``request`` (tests start from it and change one thing)."""
    return smart_answer(request.question())
