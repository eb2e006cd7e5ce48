"""The database in this process: the file opened for one transaction at a time (no storekeeper
running: the CLI alone, in-process tests), or kept open for good (the storekeeper itself).

``FileStore`` — DuckDB lets one process hold the file at a time, so every session takes a
cross-process file lock, attaches the file to an in-memory DuckDB instance the process keeps,
runs one transaction and detaches (starting a DuckDB instance costs ~13 ms, an attach under 1 ms).
A session that cannot get the lock within a bounded time fails with :class:`StoreBusy`.

``KeptStore`` — the storekeeper opens the file once and keeps it: a transaction then costs its
statements (~0.4 ms a read, ~1 ms a commit). Writing transactions run one after another (a lock),
reading ones beside them, each on its own cursor (DuckDB keeps every transaction's snapshot).
Answers to writing transactions are kept by request id, in the same transaction, so a client that
lost an answer gets the same one when it asks again, even after a restart.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline import defaults
from pipeline.private import private_dir, private_file
from pipeline.store import codec
from pipeline.store.base import Database, RowReads, StoreBusy, as_transaction, check_read_only, utcnow
from pipeline.store.schema import migrate

__all__ = ["FileStore", "KeptStore"]


def _transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[Database]:
    connection.execute("BEGIN TRANSACTION")
    try:
        yield Database(connection)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


class _Queries(RowReads):
    """People's read-only SQL and domain transactions, on top of a ``session()``."""

    def session(self, writes: bool = True):  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self, function: Callable, *args, **kwargs):
        """Run a domain transaction here."""
        found = as_transaction(function)
        with self.session(writes=found.writes) as db:
            return function(db, *args, **kwargs)

    def arrow(self, sql: str, params: tuple | list = ()) -> pa.Table:
        check_read_only(sql)
        with self.session(writes=False) as db:
            return db.execute(sql, list(params)).to_arrow_table()

    def frame(self, sql: str, params: tuple | list = ()):
        return self.arrow(sql, params).to_pandas()

    def rows(self, sql: str, params: tuple | list = ()) -> list[dict]:
        check_read_only(sql)
        with self.session(writes=False) as db:
            return db.rows(sql, list(params))


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
        "(close any DuckDB shell or notebook that opened the file directly — use `python -m pipeline sql` or "
        "`pipeline.connect()` instead — then try again)"
    )


class FileStore(_Queries):
    """The file, opened for one transaction at a time."""

    ALIAS = "clipinsight"
    mode = "file"

    def __init__(self, path: Path, lock_timeout: float = defaults.STORE_LOCK_TIMEOUT_S):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._lock = _FileLock(self.path.with_name(self.path.name + ".lock"))
        self._migrated = False
        self._in_process = threading.Lock()  # one session at a time per process (Streamlit uses threads)
        self._engine: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def session(self, writes: bool = True) -> Iterator[Database]:
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
                    yield from _transaction(connection)
                finally:
                    self._detach(connection)
        finally:
            self._in_process.release()

    def _engine_connection(self) -> duckdb.DuckDBPyConnection:
        if self._engine is None:
            self._engine = duckdb.connect(":memory:", config={"threads": defaults.STORE_THREADS})
        return self._engine

    def _attach(self, deadline: float) -> duckdb.DuckDBPyConnection:
        """Attach the file; a process outside our lock (a DuckDB shell, a storekeeper) may hold it."""
        connection = self._engine_connection()
        path = str(self.path).replace("'", "''")
        while True:
            try:
                connection.execute(f"ATTACH '{path}' AS {self.ALIAS}")
                connection.execute(f"USE {self.ALIAS}")
                _private(self.path)
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
            self._migrated = True


def _private(path: Path) -> None:
    """The database and its write-ahead log are readable by their owner only."""
    for file in (path, path.with_name(path.name + ".wal")):
        private_file(file)


class KeptStore(_Queries):
    """The file, opened once and kept (the storekeeper)."""

    mode = "kept"

    def __init__(self, path: Path):
        self.path = Path(path)
        private_dir(self.path.parent)
        self.connection = self._open()
        migrate(self.connection)
        # People's SQL runs here too: no table function may read or write files on this host.
        self.connection.execute("SET enable_external_access = false")
        self.connection.execute("SET lock_configuration = true")
        _private(self.path)
        self._writer = threading.Lock()
        self._local = threading.local()

    def _open(self, wait_s: float = defaults.STORE_LOCK_TIMEOUT_S) -> duckdb.DuckDBPyConnection:
        """Open the file, waiting out a short session of a process that opened it directly
        before the storekeeper started (a CLI command)."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                return duckdb.connect(str(self.path), config={"threads": defaults.STORE_THREADS})
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise StoreBusy(_busy_message(self.path, wait_s)) from exc
                time.sleep(0.05)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.connection.cursor()
        return cursor

    @contextmanager
    def session(self, writes: bool = True) -> Iterator[Database]:
        if writes:
            with self._writer:
                yield from _transaction(self._cursor())
        else:
            yield from _transaction(self._cursor())

    def run_named(self, name: str, function: Callable, writes: bool, args: list, kwargs: dict, request_id: str | None):
        """Run a transaction a client named; its answer encoded, and kept by request id."""
        with self.session(writes=writes) as db:
            if writes and request_id:
                kept = db.scalar("SELECT answer FROM store_requests WHERE request_id = ?", [request_id])
                if kept is not None:
                    return kept
            answer = codec.encode(function(db, *args, **kwargs))
            if writes and request_id:
                db.execute("INSERT INTO store_requests VALUES (?, ?, ?, ?)", [request_id, name, answer, utcnow()])
            return answer

    def forget_old_requests(self) -> int:
        cutoff = utcnow() - timedelta(seconds=defaults.STORE_REQUEST_TTL_S)
        with self.session() as db:
            return len(db.rows("DELETE FROM store_requests WHERE created_at < ? RETURNING 1", [cutoff]))

    def interrupt(self) -> None:
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()
