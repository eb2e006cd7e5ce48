"""A rate limiter shared by every worker: requests and tokens per sliding window, in Redis.

Each call reserves a slot (and its estimated input tokens) before it goes out. When the window
is full the call waits until the oldest reservations age out; it fails (RATE_LIMITED, retried
later by the runner) only after waiting ``max_wait_s``. A 429 from the service pauses every
worker for as long as the service asked.

Redis keeps the window so that all workers on all hosts share it; its own clock (``TIME``) is the
only clock used, so hosts with skewed clocks still agree. When Redis cannot be reached the
limiter keeps a window in this process instead of failing the call.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

import redis

from pipeline import defaults
from pipeline.errors import ClipInsightError, ErrorCode, StepError
from pipeline.redis_server import redis_client
from pipeline.settings import Settings

__all__ = ["Limits", "Grant", "RateLimiter", "limiter_for", "api_key_limiter"]

log = logging.getLogger("clipinsight.ratelimit")

#: Redis errors after which the limiter falls back to its in-process window.
_REDIS_DOWN = (redis.RedisError, OSError, ClipInsightError)

# KEYS: calls (sorted set: member "<id>:<tokens>", score = ms), pause (ms timestamp)
# ARGV: window ms, max requests, max tokens, tokens, id
# Returns {ms to wait (0 = granted), now in ms}.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if pause > now then return {pause - now, now} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local count, used = #entries / 2, 0
for i = 1, #entries, 2 do used = used + tonumber(string.match(entries[i], ':(%d+)$')) end
if count == 0 or (count < rpm and used + tokens <= tpm) then
  redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. tokens)
  redis.call('PEXPIRE', KEYS[1], window)
  return {0, now}
end
local free_at = now
if count >= rpm then free_at = tonumber(entries[(count - rpm + 1) * 2]) + window end
local freed = 0
for i = 1, #entries, 2 do
  if used - freed + tokens <= tpm then break end
  freed = freed + tonumber(string.match(entries[i], ':(%d+)$'))
  free_at = math.max(free_at, tonumber(entries[i + 1]) + window)
end
return {math.max(free_at - now, 1), now}
"""

# KEYS: calls. ARGV: id, tokens. Replace the estimate of a reservation with what it used.
_SETTLE = """
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do
  if string.match(entries[i], '^([^:]+):') == ARGV[1] then
    redis.call('ZREM', KEYS[1], entries[i])
    redis.call('ZADD', KEYS[1], entries[i + 1], ARGV[1] .. ':' .. ARGV[2])
    return 1
  end
end
return 0
"""

# KEYS: pause. ARGV: seconds. Extend (never shorten) the pause every worker observes.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + math.floor(tonumber(ARGV[1]) * 1000)
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then redis.call('SET', KEYS[1], until_ms, 'PX', until_ms - now) end
return until_ms
"""


@dataclass(frozen=True)
class Limits:
    requests: int  # per window
    tokens: int  # per window
    window_s: float = defaults.GEMINI_RATE_WINDOW_S
    max_wait_s: float = defaults.GEMINI_RATE_WAIT_S


@dataclass(frozen=True)
class Grant:
    """A reservation: which one, when it was granted (ms on the limiter's clock), how long the
    call waited for it, and whether the shared window or the in-process one granted it."""

    id: str
    at_ms: int
    waited_s: float
    shared: bool


class _LocalWindow:
    """The same window in this process, for when Redis is away."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: deque[list] = deque()  # [ms, id, tokens]
        self._pause_ms = 0

    def reserve(self, limits: Limits, tokens: int, call_id: str) -> tuple[int, int]:
        with self._lock:
            now = int(time.time() * 1000)
            window = int(limits.window_s * 1000)
            if self._pause_ms > now:
                return self._pause_ms - now, now
            while self._calls and self._calls[0][0] <= now - window:
                self._calls.popleft()
            used = sum(c[2] for c in self._calls)
            if not self._calls or (len(self._calls) < limits.requests and used + tokens <= limits.tokens):
                self._calls.append([now, call_id, tokens])
                return 0, now
            return max(self._free_at(limits, tokens, used, window) - now, 1), now

    def _free_at(self, limits: Limits, tokens: int, used: int, window: int) -> int:
        calls = list(self._calls)
        free_at = calls[len(calls) - limits.requests][0] + window if len(calls) >= limits.requests else 0
        freed = 0
        for at, _, spent in calls:
            if used - freed + tokens <= limits.tokens:
                break
            freed += spent
            free_at = max(free_at, at + window)
        return free_at

    def settle(self, call_id: str, tokens: int) -> None:
        with self._lock:
            for call in self._calls:
                if call[1] == call_id:
                    call[2] = tokens

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._pause_ms = max(self._pause_ms, int((time.time() + seconds) * 1000))


class RateLimiter:
    """Requests and tokens per window for one named resource (a model), shared through Redis."""

    def __init__(self, name: str, limits: Limits, settings: Settings, *, sleep=time.sleep):
        self.name = name
        self.limits = limits
        self.settings = settings
        self._sleep = sleep
        self._local = _LocalWindow()
        prefix = f"{defaults.REDIS_PREFIX}ratelimit:{name}"
        self._keys = (f"{prefix}:calls", f"{prefix}:pause")
        self._warned = False

    def acquire(self, tokens: int) -> Grant:
        """Wait for room for one call of ``tokens`` input tokens; raise RATE_LIMITED (with the
        wait still needed as ``retry_after``) when that takes longer than ``max_wait_s``."""
        call_id, started = uuid.uuid4().hex, time.monotonic()
        while True:
            wait_ms, now_ms, shared = self._reserve(tokens, call_id)
            waited = time.monotonic() - started
            if wait_ms == 0:
                return Grant(call_id, now_ms, waited, shared)
            if waited + wait_ms / 1000 > self.limits.max_wait_s:
                raise StepError(
                    ErrorCode.RATE_LIMITED,
                    f"{self.name}: the configured limit of {self.limits.requests} requests / {self.limits.tokens} "
                    f"tokens per {self.limits.window_s:g} s is used up; waited {waited:.0f} s",
                    retry_after=wait_ms / 1000,
                )
            self._sleep(wait_ms / 1000 + random.uniform(0, 0.05))  # jitter: waiters do not wake together

    def settle(self, grant: Grant, tokens: int) -> None:
        """Count what the call really used instead of the estimate it reserved."""
        if grant.shared and self._shared(lambda conn: conn.eval(_SETTLE, 1, self._keys[0], grant.id, max(tokens, 0))):
            return
        self._local.settle(grant.id, max(tokens, 0))

    def pause(self, seconds: float) -> None:
        """The service said "slow down": no worker sends a call for ``seconds``."""
        if not self._shared(lambda conn: conn.eval(_PAUSE, 1, self._keys[1], seconds)):
            self._local.pause(seconds)

    def _reserve(self, tokens: int, call_id: str) -> tuple[int, int, bool]:
        limits = self.limits
        args = (int(limits.window_s * 1000), limits.requests, limits.tokens, max(tokens, 0), call_id)
        result = self._shared(lambda conn: conn.eval(_RESERVE, 2, *self._keys, *args))
        if result:
            return int(result[0]), int(result[1]), True
        wait_ms, now_ms = self._local.reserve(limits, max(tokens, 0), call_id)
        return wait_ms, now_ms, False

    def _shared(self, command):
        """Run ``command`` on Redis; None when Redis cannot be reached (warned once)."""
        try:
            return command(redis_client(self.settings))
        except _REDIS_DOWN as exc:
            if not self._warned:
                log.warning("rate limiter %s: Redis unreachable (%s); limiting within this process", self.name, exc)
                self._warned = True
            return None


@lru_cache(maxsize=16)
def limiter_for(settings: Settings, name: str, limits: Limits | None = None) -> RateLimiter:
    """The limiter of ``name`` (one per process) under ``limits``, by default the Gemini limits
    of ``settings``."""
    if limits is None:
        limits = Limits(
            requests=settings.gemini_rpm, tokens=settings.gemini_tpm, max_wait_s=settings.gemini_rate_wait_s
        )
    return RateLimiter(name, limits, settings)


@lru_cache(maxsize=1024)
def api_key_limiter(settings: Settings, key_hash: str) -> RateLimiter:
    """Requests per minute of one API key (by the hash of what was presented, so unknown keys are
    limited too), shared by every API process through Redis. It never waits: a request over the
    limit is refused at once with how long until there is room (``retry_after``)."""
    limits = Limits(requests=settings.api_rate_limit, tokens=2**40, window_s=60.0, max_wait_s=0.0)
    return RateLimiter(f"apikey:{key_hash[:32]}", limits, settings)
