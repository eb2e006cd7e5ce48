"""The store: how every process reaches the DuckDB file, the system of record.

While ``python -m pipeline up`` runs, one process — the storekeeper (``pipeline.storekeeper``) —
keeps the file open, and every other process is its client: it runs *domain transactions* there
(``store.run(transaction, ...)``; no SQL travels) and people's read-only SQL (``store.rows``,
``store.frame``, ``pipeline.connect()``). Without ``up`` (the CLI alone, in-process tests) a process
opens the file itself, for one transaction at a time. The rule: a storekeeper running -> go
through it.

Use::

    job = get_store().run(jobs.get_job, job_id)          # a domain transaction, wherever the file is
    frame = get_store().frame("SELECT status, count(*) FROM jobs GROUP BY ALL")

A domain transaction is a function ``f(db, ...)`` decorated with ``@transaction``
(``pipeline.store.base``). Which process uses which: ``storekeeper.json`` in the data dir names the
running ``up`` (written by the supervisor); ``CLIPINSIGHT_STORE_URL`` points a worker on another
machine at the storekeeper of the machine that runs ``up``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.settings import Settings, get_settings
from pipeline.store.base import (
    Database,
    StoreBusy,
    StoreUnavailable,
    Transaction,
    check_read_only,
    dumps,
    find_transaction,
    transaction,
    utcnow,
)
from pipeline.store.direct import FileStore, KeptStore
from pipeline.store.remote import FlightStore, local_location

__all__ = [
    "Database",
    "StoreBusy",
    "StoreUnavailable",
    "Transaction",
    "transaction",
    "find_transaction",
    "check_read_only",
    "utcnow",
    "dumps",
    "FileStore",
    "KeptStore",
    "FlightStore",
    "get_store",
    "remote_store",
    "storekeeper_expected",
    "announce_storekeeper",
]

Store = FileStore | FlightStore

_file_stores: dict[Path, FileStore] = {}
_flight_stores: dict[str, FlightStore] = {}


def get_store(settings: Settings | None = None) -> Store:
    """The storekeeper when one runs for this data dir (or ``CLIPINSIGHT_STORE_URL`` names one),
    else the file itself."""
    settings = settings or get_settings()
    location = local_location(settings) if storekeeper_expected(settings) else settings.store_url
    if location:
        if location not in _flight_stores:
            _flight_stores[location] = FlightStore(location, token=settings.store_token, wait_s=settings.store_wait_s)
        return _flight_stores[location]
    path = settings.db_path
    if path not in _file_stores:
        _file_stores[path] = FileStore(path, settings.store_lock_timeout_s)
    return _file_stores[path]


def remote_store(settings: Settings) -> FlightStore | None:
    """The storekeeper of another machine, when this one has none: its files go through it."""
    if settings.store_url and not storekeeper_expected(settings):
        return get_store(settings)
    return None


def storekeeper_expected(settings: Settings) -> bool:
    """Does a running ``up`` own this data dir's database (its storekeeper may be restarting)?"""
    try:
        owner = json.loads(settings.store_marker.read_text())["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return _alive(int(owner))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def announce_storekeeper(settings: Settings, pid: int | None = None) -> Iterator[None]:
    """While this runs, every process on this host goes through the storekeeper (``up`` wraps its
    whole life in it; the storekeeper itself may restart inside)."""
    marker = settings.store_marker
    marker.parent.mkdir(parents=True, exist_ok=True)
    partial = marker.with_name(marker.name + ".part")
    partial.write_text(json.dumps({"pid": pid or os.getpid(), "socket": local_location(settings)}))
    partial.replace(marker)
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


def forget_stores() -> None:
    _file_stores.clear()
    _flight_stores.clear()
