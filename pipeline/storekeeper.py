"""The storekeeper: the one process that opens the DuckDB file while ClipInsight runs.

``python -m pipeline up`` starts it (and restarts it if it dies); workers, the reconciler, the UI,
the CLI, the HTTP API and notebooks are its clients (``pipeline.store.remote``). It serves Arrow
Flight on a unix socket in the data dir, and on TCP as well when ``CLIPINSIGHT_STORE_URL`` names a
``grpc+tcp://`` address — then every call must carry ``CLIPINSIGHT_STORE_TOKEN`` (TLS is a front
proxy's job, or Flight's own TLS; see README "More machines").

- action ``tx``: a domain transaction by name (``pipeline.store.base.find_transaction``), run in
  one DuckDB transaction; the answer of a writing one is kept by its request id;
- action ``ping``: who is serving, for health checks;
- ``do_get`` of ``{"sql": ...}``: one read-only SELECT, streamed as Arrow record batches, stopped
  after ``STORE_QUERY_TIMEOUT_S``; of ``{"file": key}``: a file from the data dir, in chunks;
- ``do_put`` of ``file/<key>``: a file into the data dir (written aside, then moved into place).

DuckDB's write-ahead log makes every committed transaction survive a kill -9 of this process.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import signal
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.flight as flight

from pipeline import defaults
from pipeline.errors import ClipInsightError, InvalidInput
from pipeline.files import resolve_key
from pipeline.settings import Settings, get_settings
from pipeline.store import codec
from pipeline.store.base import check_read_only, find_transaction
from pipeline.store.direct import KeptStore
from pipeline.store.remote import FILE_CHUNK, answer_error, local_location, socket_path

__all__ = ["Storekeeper", "serve"]

log = logging.getLogger("clipinsight.storekeeper")


class _TokenCheck(flight.ServerMiddlewareFactory):
    """Every call must carry ``authorization: Bearer <token>``."""

    def __init__(self, token: str):
        self.expected = f"Bearer {token}".encode()

    def start_call(self, info, headers):
        given = next(iter(headers.get("authorization", [])), "")
        if not hmac.compare_digest(given.encode() if isinstance(given, str) else given, self.expected):
            raise flight.FlightUnauthenticatedError("a valid store token is required")
        return None


class Storekeeper(flight.FlightServerBase):
    def __init__(self, store: KeptStore, settings: Settings, location: str, token: str | None):
        middleware = {"token": _TokenCheck(token)} if token else {}
        super().__init__(location, middleware=middleware)
        self.store = store
        self.settings = settings

    # --- Domain transactions ---

    def do_action(self, context, action):
        if action.type == "ping":
            yield flight.Result(json.dumps({"pid": os.getpid(), "database": str(self.store.path)}).encode())
            return
        if action.type != "tx":
            raise flight.FlightServerError(f"unknown action {action.type!r}")
        request = codec.decode(action.body.to_pybytes())
        try:
            found = find_transaction(request["name"])
            answer = self.store.run_named(
                found.name,
                found.function,
                found.writes,
                request.get("args") or [],
                request.get("kwargs") or {},
                request.get("request_id"),
            )
            yield flight.Result(b"A" + answer)
        except ClipInsightError as exc:
            yield flight.Result(answer_error(exc))
        except Exception:
            log.exception("transaction %s failed", request.get("name"))
            raise

    def list_actions(self, context):
        return [("tx", "run a domain transaction"), ("ping", "who serves")]

    # --- Reads: SQL and files ---

    def do_get(self, context, ticket):
        request = codec.decode(ticket.ticket)
        try:
            if "file" in request:
                return flight.GeneratorStream(_FILE_SCHEMA, _file_chunks(self._stored_file(request["file"])))
            return flight.RecordBatchStream(self._query(request["sql"], request.get("params") or []))
        except ClipInsightError as exc:
            raise flight.FlightServerError(str(exc)) from None

    def _query(self, sql: str, params: list) -> pa.Table:
        check_read_only(sql)
        cursor = self.store.connection.cursor()
        timer = threading.Timer(defaults.STORE_QUERY_TIMEOUT_S, cursor.interrupt)
        timer.start()
        try:
            return cursor.execute(sql, params).to_arrow_table()
        except Exception as exc:
            raise InvalidInput(f"the query failed: {exc}") from None
        finally:
            timer.cancel()
            cursor.close()

    def _stored_file(self, key: str) -> Path:
        path = resolve_key(self.settings, key)
        if not path.is_file():
            raise InvalidInput(f"no stored file {key!r}")
        return path

    # --- Writes: files ---

    def do_put(self, context, descriptor, reader, writer):
        kind, key = (part.decode() for part in descriptor.path)
        if kind != "file":
            raise flight.FlightServerError(f"cannot store a {kind!r}")
        target = resolve_key(self.settings, key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = target.with_name(target.name + f".part-{os.getpid()}-{threading.get_ident()}")
        with open(partial, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as handle:
            for chunk in reader:
                for value in chunk.data.column(0):
                    handle.write(value.as_py())
        partial.replace(target)


_FILE_SCHEMA = pa.schema([("chunk", pa.binary())])


def _file_chunks(path: Path):
    with path.open("rb") as handle:
        while block := handle.read(FILE_CHUNK):
            yield pa.record_batch([pa.array([block], pa.binary())], schema=_FILE_SCHEMA)


def serve(settings: Settings | None = None, stop: threading.Event | None = None) -> None:
    """The storekeeper process: open the file, serve until SIGTERM/SIGINT, close it."""
    settings = settings or get_settings()
    store = KeptStore(settings.db_path)
    servers = [_server(store, settings, local_location(settings), settings.store_token, unix=True)]
    if settings.store_url and settings.store_url.startswith("grpc+tcp://"):
        if not settings.store_token:
            raise InvalidInput(
                "the storekeeper will not listen on TCP without a token: set CLIPINSIGHT_STORE_TOKEN (a long random "
                "string) here and on every machine that connects"
            )
        servers.append(_server(store, settings, settings.store_url, settings.store_token, unix=False))
    log.info("storekeeper serving %s at %s", settings.db_path, ", ".join(s.location for s in servers))
    stop = stop or _stop_on_signals()  # a Flight server serves from its creation; serve() would only block
    ticks = 0
    while not stop.wait(0.5):  # short waits: a signal is noticed between them
        ticks += 1
        if ticks % 120 == 0:
            store.forget_old_requests()
    log.info("storekeeper stopping")
    for served in servers:
        served.server.shutdown()
    store.close()
    socket_path(settings).unlink(missing_ok=True)
    log.info("storekeeper stopped")


class _Served:
    def __init__(self, server: Storekeeper, location: str):
        self.server, self.location = server, location


def _server(store: KeptStore, settings: Settings, location: str, token: str | None, *, unix: bool) -> _Served:
    if unix:
        socket_path(settings).unlink(missing_ok=True)
    server = Storekeeper(store, settings, location, token)
    if unix:
        os.chmod(socket_path(settings), 0o600)
    return _Served(server, location)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
