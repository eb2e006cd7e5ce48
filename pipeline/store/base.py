"""What every way of reaching the database shares: the row helpers a transaction uses, the
registry of domain transactions, and the read-only rule for people's SQL.

A *domain transaction* is a function ``f(db, ...)`` decorated with :func:`transaction`. It runs in
one DuckDB transaction wherever the database is: in this process (no storekeeper running) or in
the storekeeper (the caller sends its name and arguments; no SQL travels). Its arguments and its
answer are plain data (``pipeline.store.codec``).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from pipeline.errors import ClipInsightError, InvalidInput

__all__ = [
    "Database",
    "StoreBusy",
    "StoreUnavailable",
    "Transaction",
    "transaction",
    "find_transaction",
    "check_read_only",
    "RowReads",
    "utcnow",
    "dumps",
]


class StoreBusy(ClipInsightError):
    pass


class StoreUnavailable(ClipInsightError):
    """The storekeeper did not answer within the bounded wait."""


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


# --- Domain transactions -------------------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    name: str
    function: Callable
    writes: bool


_REGISTRY: dict[str, Transaction] = {}


def transaction(function: Callable | None = None, *, writes: bool = True):
    """Register ``function(db, ...)`` as a domain transaction; ``writes=False`` for one that only
    reads (it may then run beside others in the storekeeper instead of after them)."""

    def register(fn: Callable) -> Callable:
        found = Transaction(f"{fn.__module__}:{fn.__qualname__}", fn, writes)
        _REGISTRY[found.name] = found
        fn.__store_transaction__ = found
        return fn

    return register(function) if function is not None else register


def as_transaction(function: Callable) -> Transaction:
    found = getattr(function, "__store_transaction__", None)
    if found is None:
        raise TypeError(f"{function.__qualname__} is not a domain transaction (decorate it with @transaction)")
    return found


def find_transaction(name: str) -> Transaction:
    """The transaction a client named. Only modules of this package are imported to find one,
    and only decorated functions are found: a name is never a way to run anything else."""
    if name not in _REGISTRY:
        module = name.partition(":")[0]
        if module == "pipeline" or module.startswith("pipeline."):
            importlib.import_module(module)
    if name not in _REGISTRY:
        raise InvalidInput(f"no domain transaction named {name!r}")
    return _REGISTRY[name]


# --- People's SQL ----------------------------------------------------------------------------


class RowReads:
    """``row`` and ``scalar`` for a store that has ``rows(sql, params)``."""

    def rows(self, sql: str, params: tuple | list = ()) -> list[dict]:  # pragma: no cover - overridden
        raise NotImplementedError

    def row(self, sql: str, params: tuple | list = ()) -> dict | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: tuple | list = ()):
        found = self.row(sql, params)
        return next(iter(found.values())) if found else None


_READ_ONLY = {"SELECT", "EXPLAIN"}


def check_read_only(sql: str) -> str:
    """One SELECT (or EXPLAIN) statement, or :class:`InvalidInput` saying why not."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise InvalidInput(f"the query does not parse: {exc}") from None
    if len(statements) != 1:
        raise InvalidInput(f"give one statement at a time (got {len(statements)})")
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind not in _READ_ONLY:
        raise InvalidInput(f"the database is read-only here: a {kind} statement is refused; only SELECT runs")
    return sql
