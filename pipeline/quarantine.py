"""The quarantine: untrusted uploads are parsed in a child process, bounded in time.

A creator's transcript is read before anything else sees it: for the Submit page's estimate,
at submission, when a job waits for one. Those calls come from the UI server (a thread of the
Streamlit process, sharing its GIL with every session), the CLI and the HTTP API. Here the
parse runs in a long-lived child process instead, so a file that takes long to read — or a
parser bug that never ends — costs that child, never the caller's process: after
``timeout_s`` the child is killed, the caller gets :class:`ParseTimeout` (a clear message, not
a hang), and the next call starts a fresh child.

One child per process serves one call at a time (parsing is linear and capped, so a turn is
short); waiting for a turn is bounded too. The child reads length-prefixed pickles on stdin and
answers on stdout; it exits when its parent closes the pipe. Only the functions in ``TASKS``
run there.
"""

from __future__ import annotations

import importlib
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from pipeline import defaults
from pipeline.errors import ClipInsightError, InvalidInput
from pipeline.transcript import Transcript, check_size

__all__ = ["ParseTimeout", "Quarantine", "parse_transcript", "TASKS"]

#: What the child may run, by name.
TASKS = {"parse_transcript": "pipeline.transcript:parse_transcript"}
_HEADER = struct.Struct("!I")
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ParseTimeout(InvalidInput):
    """Reading an upload took longer than the bound; it was stopped."""


class Quarantine:
    def __init__(self, timeout_s: float = defaults.PARSE_TIMEOUT_S, start_timeout_s: float = 60.0):
        self.timeout_s = timeout_s
        self.start_timeout_s = start_timeout_s
        self._turn = threading.Lock()
        self._child: subprocess.Popen | None = None
        self._owner = os.getpid()  # a forked copy of this object must not share its parent's pipes

    def call(self, task: str, *args):
        """Run ``TASKS[task](*args)`` in the child; its ClipInsightError is raised here as is."""
        if not self._turn.acquire(timeout=self.timeout_s * 3):
            raise ParseTimeout("the server is busy reading other uploads; try again in a moment")
        try:
            child = self._ready_child()
            _send(child.stdin, (task, args))
            status, value = self._answer(child)
        finally:
            self._turn.release()
        if status == "ok":
            return value
        if status == "error":
            raise value
        raise RuntimeError(f"the parser failed unexpectedly:\n{value}")

    def _answer(self, child: subprocess.Popen):
        try:
            return _receive(child.stdout, time.monotonic() + self.timeout_s)
        except TimeoutError:
            self.stop()
            raise ParseTimeout(
                f"reading this file took longer than {self.timeout_s:.0f} s, so it was stopped; "
                "check that it is an SRT, VTT or plain-text transcript"
            ) from None
        except EOFError:
            self.stop()
            raise RuntimeError("the parser process ended while reading the file") from None

    def _ready_child(self) -> subprocess.Popen:
        if self._owner != os.getpid():
            self._child, self._owner = None, os.getpid()
        if self._child is None or self._child.poll() is not None:
            self._child = _spawn()
            try:
                _receive(self._child.stdout, time.monotonic() + self.start_timeout_s)  # its "ready"
            except (TimeoutError, EOFError):
                self.stop()
                raise RuntimeError("the parser process did not start") from None
        return self._child

    def stop(self) -> None:
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()


def _spawn() -> subprocess.Popen:
    path = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.quarantine"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": path},
        cwd=_PROJECT_ROOT,
    )


def _send(stream, value) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream, deadline: float | None):
    size = _HEADER.unpack(_read(stream, _HEADER.size, deadline))[0]
    return pickle.loads(_read(stream, size, deadline))


def _read(stream, count: int, deadline: float | None) -> bytes:
    """Exactly ``count`` bytes from a pipe, or TimeoutError at the deadline, EOFError at its end."""
    chunks, fd = [], stream.fileno()
    while count:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not select.select([fd], [], [], wait)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(count, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


_shared: Quarantine | None = None
_shared_lock = threading.Lock()


def shared() -> Quarantine:
    """The process's quarantine (its child starts on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Quarantine()
        return _shared


def parse_transcript(data: bytes | str, filename: str = "transcript.txt") -> Transcript:
    """:func:`pipeline.transcript.parse_transcript`, run in the quarantine. The size cap is
    checked here first, so an oversized upload is refused without crossing the pipe."""
    check_size(data)
    return shared().call("parse_transcript", data, filename)


# --- The child -----------------------------------------------------------------------------


def _serve() -> None:
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers goes down the pipe
    _send(sink, ("ready", None))
    while True:
        try:
            task, args = _receive(source, None)
        except EOFError:
            return
        _send(sink, _run(task, args))


def _run(task: str, args: tuple) -> tuple[str, object]:
    try:
        module, name = TASKS[task].split(":")
        return "ok", getattr(importlib.import_module(module), name)(*args)
    except ClipInsightError as exc:
        return "error", exc
    except Exception:
        return "crash", traceback.format_exc()


if __name__ == "__main__":
    _serve()
