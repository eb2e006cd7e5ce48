"""The store: the only code that opens the DuckDB file.

DuckDB lets one process hold the file at a time, and the UI, the workers, the reconciler and the
CLI are separate processes. So every store session takes a cross-process file lock, opens the
database, runs one transaction, closes it and releases the lock. A session that cannot get the
lock within a bounded time fails with :class:`StoreBusy` and a message that says what to do.

"Opening" is an ``ATTACH`` of the file to an in-memory DuckDB instance the process keeps, and
"closing" a ``DETACH``: starting a DuckDB instance costs ~13 ms (building its catalog), attaching
a file to a running one under 1 ms, so a session costs ~5 ms instead of ~20 ms. The file is
still held only for the length of one transaction.

Use::

    with store.session() as db:
        job = jobs.get_job(db, job_id)
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipeline import defaults
from pipeline.errors import ClipInsightError
from pipeline.private import private_dir, private_file
from pipeline.settings import Settings, get_settings
from pipeline.store.schema import migrate

__all__ = ["Store", "Database", "StoreBusy", "get_store", "utcnow", "dumps"]


class StoreBusy(ClipInsightError):
    pass


def utcnow() -> datetime:
    """Naive UTC, the form every TIMESTAMP column holds."""
    return datetime.now(UTC).replace(tzinfo=None)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class Database:
    """One open connection inside one transaction, with small query helpers."""

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self.connection = connection

    def execute(self, sql: str, params: tuple | list | dict = ()) -> duckdb.DuckDBPyConnection:
        return self.connection.execute(sql, params)

    def rows(self, sql: str, params: tuple | list | dict = ()) -> list[dict]:
        cursor = self.connection.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def row(self, sql: str, params: tuple | list | dict = ()) -> dict | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: tuple | list | dict = ()) -> Any:
        found = self.connection.execute(sql, params).fetchone()
        return found[0] if found else None

    def frame(self, sql: str, params: tuple | list | dict = ()):
        """A pandas DataFrame, for charts."""
        return self.connection.execute(sql, params).df()


class _FileLock:
    """An exclusive ``flock`` with a deadline. flock locks belong to an open file description,
    so two threads of one process (Streamlit runs each session in a thread) exclude each other
    as two processes do."""

    def __init__(self, path: Path):
        self.path = path

    @contextmanager
    def hold(self, timeout: float) -> Iterator[None]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            self._acquire(fd, timeout)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _acquire(self, fd: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreBusy(_busy_message(self.path.with_suffix(""), timeout)) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.02)


def _busy_message(db_path: Path, timeout: float) -> str:
    return (
        f"the database {db_path} stayed busy for {timeout:.0f} s; another process is holding it "
        "(close any DuckDB shell or notebook that opened the file directly, then try again)"
    )


class Store:
    ALIAS = "clipinsight"

    def __init__(self, path: Path, lock_timeout: float = defaults.STORE_LOCK_TIMEOUT_S):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._lock = _FileLock(self.path.with_name(self.path.name + ".lock"))
        self._migrated = False
        self._in_process = threading.Lock()  # one session at a time per process (Streamlit uses threads)
        self._engine: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def session(self) -> Iterator[Database]:
        """Lock, attach, run one transaction, detach, unlock."""
        private_dir(self.path.parent)  # the data dir: 0700
        deadline = time.monotonic() + self.lock_timeout
        if not self._in_process.acquire(timeout=self.lock_timeout):
            raise StoreBusy(_busy_message(self.path, self.lock_timeout))
        try:
            with self._lock.hold(max(0.0, deadline - time.monotonic())):
                connection = self._attach(deadline)
                try:
                    self._ensure_migrated(connection)
                    yield from self._transaction(connection)
                finally:
                    self._detach(connection)
        finally:
            self._in_process.release()

    def _transaction(self, connection: duckdb.DuckDBPyConnection) -> Iterator[Database]:
        connection.execute("BEGIN TRANSACTION")
        try:
            yield Database(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _engine_connection(self) -> duckdb.DuckDBPyConnection:
        if self._engine is None:
            self._engine = duckdb.connect(":memory:", config={"threads": defaults.STORE_THREADS})
        return self._engine

    def _attach(self, deadline: float) -> duckdb.DuckDBPyConnection:
        """Attach the file; a process outside our lock (a DuckDB shell) may still hold it."""
        connection = self._engine_connection()
        path = str(self.path).replace("'", "''")
        while True:
            try:
                connection.execute(f"ATTACH '{path}' AS {self.ALIAS}")
                connection.execute(f"USE {self.ALIAS}")
                return connection
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise StoreBusy(_busy_message(self.path, self.lock_timeout)) from exc
                time.sleep(0.05)

    def _detach(self, connection: duckdb.DuckDBPyConnection) -> None:
        connection.execute("USE memory")
        connection.execute(f"DETACH {self.ALIAS}")

    def _ensure_migrated(self, connection: duckdb.DuckDBPyConnection) -> None:
        if not self._migrated:
            migrate(connection)
            private_file(self.path)  # DuckDB makes it with the process's umask
            self._migrated = True


_stores: dict[Path, Store] = {}


def get_store(settings: Settings | None = None) -> Store:
    """The process-wide store for the configured data dir."""
    settings = settings or get_settings()
    path = settings.db_path
    if path not in _stores:
        _stores[path] = Store(path, settings.store_lock_timeout_s)
    return _stores[path]
