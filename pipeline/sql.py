"""Read-only SQL for people: ``pipeline.connect()`` in a notebook, ``python -m pipeline sql`` in a
shell. While the product runs the storekeeper answers (nobody opens the file and stalls the
workers); without it the file is opened for one query at a time. Only SELECT runs.

Use::

    import pipeline
    con = pipeline.connect()
    con.execute("SELECT status, count(*) FROM jobs GROUP BY ALL").df()
    pipeline.query("SELECT step, avg(body_ms) FROM run_steps GROUP BY step")  # a DataFrame
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from pipeline.settings import Settings, get_settings
from pipeline.store import get_store

__all__ = ["Connection", "Cursor", "connect", "query"]


class Cursor:
    """The answer to one query, DB-API style (plus ``df()`` and ``arrow()``)."""

    def __init__(self, table: pa.Table):
        self._table = table
        self._rows = [tuple(row.values()) for row in table.to_pylist()]
        self._next = 0
        self.rowcount = len(self._rows)
        self.description = [(name, str(kind), None, None, None, None, None) for name, kind in
                            zip(table.column_names, table.schema.types, strict=True)]  # fmt: skip

    def fetchone(self) -> tuple | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchmany(self, size: int = 1) -> list[tuple]:
        found = self._rows[self._next : self._next + size]
        self._next += len(found)
        return found

    def fetchall(self) -> list[tuple]:
        return self.fetchmany(len(self._rows))

    def arrow(self) -> pa.Table:
        return self._table

    def df(self) -> pd.DataFrame:
        return self._table.to_pandas()


class Connection:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()

    def execute(self, sql: str, params: tuple | list = ()) -> Cursor:
        return Cursor(get_store(self.settings).arrow(sql, params))

    def sql(self, sql: str, params: tuple | list = ()) -> Cursor:
        return self.execute(sql, params)

    def close(self) -> None:
        """Nothing is held between queries."""

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(settings: Settings | None = None) -> Connection:
    return Connection(settings)


def query(sql: str, params: tuple | list = (), settings: Settings | None = None) -> pd.DataFrame:
    return get_store(settings or get_settings()).frame(sql, params)
