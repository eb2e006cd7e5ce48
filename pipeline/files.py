"""Media and other large files — uploads, downloaded media, extracted audio, captions, export
bundles — by key.

A key is a path relative to the data dir under one of its file folders (``media/job_x/audio.wav``,
``exports/job_x/...``). On the host that runs ``python -m pipeline up`` the files simply are the
data dir. A worker on another machine (``CLIPINSIGHT_STORE_URL``, no storekeeper of its own) keeps
copies in its own data dir: it sends what it makes to the storekeeper (``save``) and fetches what
it needs (``fetch``), so it needs nothing but Redis and the storekeeper's address.

Keys are checked (:func:`resolve_key`): no absolute paths, no ``..``, only the file folders — a
key can never name the database or anything outside the data dir.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path, PurePosixPath

from pipeline.errors import InvalidInput
from pipeline.private import private_dir, private_file
from pipeline.settings import Settings, get_settings
from pipeline.store import remote_store

__all__ = ["FOLDERS", "Files", "files_for", "resolve_key", "key_of"]

#: The data dir's folders that hold files (the rest is the database, Redis, logs).
FOLDERS = ("media", "exports")


def resolve_key(settings: Settings, key: str) -> Path:
    """The path of ``key`` in this host's data dir; :class:`InvalidInput` for a key that is not a
    plain relative path under one of the file folders."""
    parts = PurePosixPath(key).parts
    if not parts or PurePosixPath(key).is_absolute() or ".." in parts or parts[0] not in FOLDERS:
        raise InvalidInput(f"not a stored file's key: {key!r} (keys are relative paths under {', '.join(FOLDERS)})")
    return settings.data_dir.joinpath(*parts)


def key_of(settings: Settings, path: str | Path) -> str:
    """The key of a file in this host's data dir (a key is returned as it is)."""
    path = Path(path)
    if not path.is_absolute():
        return PurePosixPath(*path.parts).as_posix()
    return PurePosixPath(*path.resolve().relative_to(settings.data_dir.resolve()).parts).as_posix()


class Files:
    def __init__(self, settings: Settings, remote=None):
        self.settings = settings
        self.remote = remote  # a FlightStore when the files live with a storekeeper on another host

    def path(self, key: str) -> Path:
        """Where the file of ``key`` is (or is written) on this host; its folder exists."""
        path = resolve_key(self.settings, key)
        private_dir(path.parent)
        return path

    def key(self, path: str | Path) -> str:
        return key_of(self.settings, path)

    def save(self, key_or_path: str | Path) -> str:
        """Publish a file written at ``path(key)`` (or at a path in this host's data dir);
        returns its key."""
        key = self.key(key_or_path)
        if self.remote is not None:
            self.remote.put_file(key, self.path(key))
        return key

    def keep_upload(self, source: Path | bytes, filename: str | None = None) -> str:
        """Keep a media file someone gave us (a path, or its bytes) under ``media/uploads``, named by
        its content (the same file twice is one file); returns its key."""
        uploads = self.path("media/uploads/.keep").parent.resolve()
        if isinstance(source, Path) and source.resolve().parent == uploads:
            return self.save(source)  # kept already (``save_upload``, then ``submit`` of its path)
        name = filename or (source.name if isinstance(source, Path) else "upload")
        safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in Path(name).name)[-80:] or "upload"
        key = f"media/uploads/{_digest(source)[:16]}-{safe}"
        target = self.path(key)
        if not target.exists():
            partial = target.with_name(target.name + ".part")
            if isinstance(source, bytes):
                partial.write_bytes(source)
            else:
                shutil.copyfile(source, partial)
            private_file(partial)
            partial.replace(target)
        return self.save(key)

    def fetch(self, key_or_path: str | Path) -> Path:
        """A local path with the file's content (fetched from the storekeeper when it lives there).
        Rows written before files had keys hold absolute paths in the data dir; they still work."""
        local = Path(key_or_path)
        if local.is_absolute():
            if local.is_file():
                return local
            key_or_path = key_of(self.settings, local)
        path = self.path(str(key_or_path))
        if self.remote is not None and not path.is_file():
            self.remote.get_file(str(key_or_path), path)
        return path


def _digest(source: Path | bytes) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    digest = hashlib.sha256()
    with Path(source).open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def files_for(settings: Settings | None = None) -> Files:
    """The data dir itself, or through the storekeeper when it runs on another host."""
    settings = settings or get_settings()
    return Files(settings, remote_store(settings))
