"""``python -m pipeline up`` as a test starts and stops it: a real supervisor and its children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]


def start_up(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "up", "--no-ui", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def children(up: subprocess.Popen) -> list[psutil.Process]:
    return psutil.Process(up.pid).children(recursive=True)


def child_pid(up: subprocess.Popen, role: str) -> int | None:
    """The pid of a live child whose command line names ``role`` (``storekeeper``, ``worker``)."""
    for child in children(up):
        try:
            if role in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                return child.pid
        except psutil.Error:  # exited while we looked
            continue
    return None


def stop_up(up: subprocess.Popen, timeout: float = 60) -> str:
    """SIGTERM, as Ctrl-C would; if it does not stop, take down everything it started."""
    up.send_signal(signal.SIGTERM)
    try:
        output, _ = up.communicate(timeout=timeout)
        return output
    except subprocess.TimeoutExpired:
        for child in children(up):
            child.kill()
        up.kill()
        return up.communicate()[0]
