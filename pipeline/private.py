"""Files the product writes are its user's alone: the data dir is 0700, the database, media,
keys and everything else made under it 0600.

Two means, one rule. Every product process (the CLI and every child of ``up``, the UI) sets the
umask to 077 when it starts, so files made by anyone in it — DuckDB, yt-dlp, ffmpeg, the Redis
server it launches — are private from the moment they exist. And the places that make the data
dir and the database set the modes explicitly, so a data dir made by an older version, or by a
process that did not start through an entry point (a notebook, a test), is made private too.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PRIVATE_UMASK", "keep_private", "private_dir", "private_file"]

PRIVATE_UMASK = 0o077


def keep_private() -> None:
    """From now on this process (and its children) make files only its user can read."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Make ``path`` (and missing parents) and make it 0700."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _chmod(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Make an existing file 0600."""
    _chmod(Path(path), 0o600)


def _chmod(path: Path, mode: int) -> None:
    if path.exists() and path.stat().st_uid == os.getuid() and (path.stat().st_mode & 0o777) != mode:
        path.chmod(mode)
