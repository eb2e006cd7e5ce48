"""A client of the storekeeper, over Arrow Flight (a unix socket on this host, TCP with a token
from another one).

- A domain transaction is a Flight action ``tx``: its name and arguments go out, its answer comes
  back (``pipeline.store.codec``). A writing transaction carries a request id: when the connection
  breaks, or the storekeeper restarts, the client asks again with the same id and the storekeeper
  answers what it answered before instead of running it twice.
- People's SQL is a ``do_get``: the rows stream back as Arrow record batches (into pandas without
  a copy).
- Files go up with ``do_put`` and come down with ``do_get``, in chunks.

A storekeeper that does not answer (it is restarting) is asked again with a growing pause for up to
``store_wait_s``; then :class:`StoreUnavailable` says what to check.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.flight as flight

from pipeline import defaults
from pipeline.errors import ClipInsightError, InvalidInput
from pipeline.settings import Settings
from pipeline.store import codec
from pipeline.store.base import RowReads, StoreUnavailable, as_transaction, check_read_only

__all__ = ["FlightStore", "FILE_CHUNK", "answer_error", "raise_answer_error", "socket_path", "local_location"]

#: Files travel in chunks of this many bytes.
FILE_CHUNK = 1 << 20
_RETRYABLE = (flight.FlightUnavailableError, flight.FlightTimedOutError, ConnectionError, OSError)


def socket_path(settings: Settings) -> Path:
    """The storekeeper's unix socket in the data dir; a long data dir path (over sockaddr_un's
    ~100 bytes) gets a short stand-in under /tmp."""
    path = settings.data_dir / defaults.STORE_SOCKET
    if len(str(path)) <= 100:
        return path
    digest = hashlib.sha1(str(settings.data_dir).encode()).hexdigest()[:12]
    return Path("/tmp") / f"clipinsight-store-{digest}.sock"


def local_location(settings: Settings) -> str:
    return f"grpc+unix://{socket_path(settings)}"


def answer_error(exc: ClipInsightError) -> bytes:
    """The error as an answer: its class, message and details (what a copy needs, see
    ``ClipInsightError.DETAILS``)."""
    kind = type(exc)
    found = {"class": f"{kind.__module__}:{kind.__qualname__}", "message": str(exc), "details": exc.details()}
    return b"E" + codec.encode(found)


def raise_answer_error(body: bytes) -> None:
    """Raise the product error the storekeeper reported (only this package's error classes)."""
    found = codec.decode(body[1:])
    module_name, _, qualname = found["class"].partition(":")
    error_class: type = ClipInsightError
    if module_name.startswith("pipeline"):
        candidate = getattr(importlib.import_module(module_name), qualname, None)
        if isinstance(candidate, type) and issubclass(candidate, ClipInsightError):
            error_class = candidate
    details = {name: value for name, value in found.get("details", {}).items() if name in error_class.DETAILS}
    raise error_class(found["message"], **details)


class FlightStore(RowReads):
    """The database through the storekeeper."""

    mode = "storekeeper"

    def __init__(self, location: str, *, token: str | None = None, wait_s: float = defaults.STORE_WAIT_S):
        self.location = location
        self.wait_s = wait_s
        headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
        self._options = flight.FlightCallOptions(headers=headers)
        self._client: flight.FlightClient | None = None

    def __repr__(self) -> str:
        return f"FlightStore({self.location!r})"

    @property
    def client(self) -> flight.FlightClient:
        if self._client is None:
            self._client = flight.FlightClient(self.location)
        return self._client

    def session(self, writes: bool = True):
        raise StoreUnavailable(
            "the storekeeper owns the database while ClipInsight runs: call a domain transaction "
            "(store.run) or read with SQL (store.rows / pipeline.connect())"
        )

    # --- Calls, retried while the storekeeper restarts ---

    def _call(self, what: str, call: Callable):
        deadline = time.monotonic() + self.wait_s
        pause = 0.05
        while True:
            try:
                return call()
            except flight.FlightUnauthenticatedError:
                raise StoreUnavailable(
                    f"the storekeeper at {self.location} refused this client's token "
                    "(set CLIPINSIGHT_STORE_TOKEN to the token the storekeeper was started with)"
                ) from None
            except _RETRYABLE as exc:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(
                        f"the storekeeper at {self.location} did not answer {what} for {self.wait_s:.0f} s "
                        f"({type(exc).__name__}); is `python -m pipeline up` running and CLIPINSIGHT_STORE_URL right?"
                    ) from exc
                self._client = None  # reconnect: the storekeeper may have restarted
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def run(self, function: Callable, *args, **kwargs):
        """Run a domain transaction in the storekeeper and return its answer."""
        found = as_transaction(function)
        request = {"name": found.name, "args": list(args), "kwargs": kwargs}
        if found.writes:
            request["request_id"] = uuid.uuid4().hex
        body = codec.encode(request)
        results = self._call(found.name, lambda: list(self.client.do_action(flight.Action("tx", body), self._options)))
        answer = results[0].body.to_pybytes()
        if answer[:1] == b"E":
            raise_answer_error(answer)
        return codec.decode(answer[1:])

    def ping(self) -> dict:
        results = self._call("ping", lambda: list(self.client.do_action(flight.Action("ping", b""), self._options)))
        return json.loads(results[0].body.to_pybytes())

    # --- People's SQL ---

    def arrow(self, sql: str, params: tuple | list = ()) -> pa.Table:
        check_read_only(sql)
        ticket = flight.Ticket(codec.encode({"sql": sql, "params": list(params)}))

        def fetch() -> pa.Table:
            try:
                return self.client.do_get(ticket, self._options).read_all()
            except flight.FlightServerError as exc:
                raise _query_error(exc) from None

        return self._call("a query", fetch)

    def frame(self, sql: str, params: tuple | list = ()):
        return self.arrow(sql, params).to_pandas()

    def rows(self, sql: str, params: tuple | list = ()) -> list[dict]:
        return self.arrow(sql, params).to_pylist()

    # --- Files ---

    def put_file(self, key: str, source: Path) -> None:
        descriptor = flight.FlightDescriptor.for_path("file", key)
        schema = pa.schema([("chunk", pa.binary())])

        def send() -> None:
            writer, _reader = self.client.do_put(descriptor, schema, self._options)
            with Path(source).open("rb") as handle:
                while block := handle.read(FILE_CHUNK):
                    writer.write_batch(pa.record_batch([pa.array([block], pa.binary())], schema=schema))
            writer.close()

        self._call(f"the upload of {key}", send)

    def get_file(self, key: str, target: Path) -> Path:
        ticket = flight.Ticket(codec.encode({"file": key}))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")

        def fetch() -> None:
            with partial.open("wb") as handle:
                for chunk in _chunks(self.client.do_get(ticket, self._options)):
                    handle.write(chunk)

        try:
            self._call(f"the download of {key}", fetch)
        except flight.FlightServerError as exc:
            partial.unlink(missing_ok=True)
            raise _query_error(exc) from None
        partial.replace(target)
        return target


def _chunks(reader) -> Iterator[bytes]:
    for batch in reader:
        yield from (value.as_py() for value in batch.data.column(0))


def _query_error(exc: flight.FlightServerError) -> ClipInsightError:
    message = str(exc).split(". Detail:", 1)[0].removeprefix("Flight error: ")
    return InvalidInput(message)
