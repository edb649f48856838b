"""Rate limits on /v1 (the `limits` library): per API key, and per client address for unauthenticated calls.

Fixed windows, as limits' FixedWindowRateLimiter keeps them and under its key layout. With POSTDODO_REDIS_URL
the counters live in Redis (limits' RedisStorage), shared by every process; one script call per request
increments and reads the window, where limits' hit + get_window_stats would take three round trips. Without
Redis (embedded mode) each process counts for itself. A Redis outage never takes the API down: it is logged
once and each process counts for itself until Redis answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask import Flask, request
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage

from ..config import Settings
from ..errors import ConfigurationError, RateLimitError

log = logging.getLogger("postdodo.api")

RETRY_REDIS_AFTER = 5.0  # seconds between attempts to reach Redis again after a failure
REDIS_TIMEOUT = 0.25  # seconds; a slow or unreachable Redis must not hold requests
MAX_LOCAL_WINDOWS = 100_000  # bound on in-process counters (one per key or address seen this window)
WINDOW = "postdodo.rate_window"  # the WSGI environ key of the window a request was counted in

# limits' incr_expire script, for every limit of the request at once, answering each window's count and TTL
_HIT_SCRIPT = """
local out = {}
for i, key in ipairs(KEYS) do
    local count = redis.call("incrby", key, 1)
    if count == 1 then redis.call("expire", key, ARGV[i]) end
    local ttl = redis.call("ttl", key)
    if ttl < 0 then redis.call("expire", key, ARGV[i]); ttl = tonumber(ARGV[i]) end
    out[#out + 1] = count
    out[#out + 1] = ttl
end
return out
"""


class Window(NamedTuple):
    """Where one caller stands in its current window."""

    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the window ends

    @property
    def allowed(self) -> bool:
        """False when this request went over the limit."""
        return self.remaining >= 0


class _Layout(NamedTuple):
    """One limit's storage key around the caller's identity, its window and its amount."""

    head: str
    tail: str
    seconds: int
    amount: int


def _layout(item: RateLimitItem) -> _Layout:
    head, _, tail = item.key_for("\0").partition("\0")
    return _Layout(head, tail, item.get_expiry(), item.amount)


class _Local:
    """Fixed windows counted in this process (embedded mode, and while Redis is unreachable)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._sweep_at = 0.0

    def hit(self, keys: list[tuple[str, int]], now: float) -> list[tuple[int, float]]:
        """Count one request in each (key, seconds) window: [(count, window end), ...]."""
        # no timer thread (limits' MemoryStorage starts one every 10 ms under load): expired windows
        # are replaced when met and swept at most once a minute
        out = []
        with self._lock:
            if now >= self._sweep_at or len(self._windows) > MAX_LOCAL_WINDOWS:
                self._windows = {k: w for k, w in self._windows.items() if w[1] > now}
                self._sweep_at = now + 60
                if len(self._windows) > MAX_LOCAL_WINDOWS:
                    # that many callers live at once (a spread-out flood): start over rather than sweep on
                    # every request
                    self._windows = {}
            for key, seconds in keys:
                count, end = self._windows.get(key, (0, 0.0))
                if end <= now:
                    count, end = 0, now + seconds
                self._windows[key] = (count + 1, end)
                out.append((count + 1, end))
        return out


class _Shared:
    """Fixed windows in Redis through limits' RedisStorage, shared by every process."""

    def __init__(self, uri: str) -> None:
        self.storage = RedisStorage(uri, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
        connection: Any = self.storage.get_connection()  # a redis.Redis; limits types it as a protocol
        self._script: Any = connection.register_script(_HIT_SCRIPT)

    def hit(self, keys: list[tuple[str, int]], now: float) -> list[tuple[int, float]]:
        """Count one request in each window: one round trip."""
        reply = self._script(keys=[self.storage.prefixed_key(k) for k, _ in keys], args=[s for _, s in keys])
        return [(int(reply[i]), now + int(reply[i + 1])) for i in range(0, len(reply), 2)]


@dataclass
class Limiter:
    """The per-key and per-address limits of one app."""

    per_key: list[RateLimitItem]
    anonymous: list[RateLimitItem]
    shared: _Shared | None

    def __post_init__(self) -> None:
        # limits' own key layout (item.key_for), split once around the identity: this runs on every request
        self._layouts = {id(items): [_layout(item) for item in items] for items in (self.per_key, self.anonymous)}
        self._local = _Local()
        self._redis_down_until = 0.0
        #: addresses over their unauthenticated limit, and when that window ends (this process's view)
        self._blocked: dict[str, float] = {}

    def _hit(self, items: list[RateLimitItem], identity: str) -> Window:
        layout = self._layouts[id(items)]
        keys = [(each.head + identity + each.tail, each.seconds) for each in layout]
        now = time.time()
        counts = None
        if self.shared is not None and now >= self._redis_down_until:
            try:
                counts = self.shared.hit(keys, now)
                if self._redis_down_until:
                    self._redis_down_until = 0.0
                    log.info("rate limit store reachable again")
            except self.shared.storage.base_exceptions as exc:
                if not self._redis_down_until:
                    log.warning("rate limit store unreachable (%s); each process limits on its own until it is back",
                                type(exc).__name__)
                self._redis_down_until = now + RETRY_REDIS_AFTER
        if counts is None:
            counts = self._local.hit(keys, now)
        if len(counts) == 1:
            (count, end), amount = counts[0], layout[0].amount
            return Window(amount, amount - count, end)
        # the window that is tightest now is the one the headers describe (as flask-limiter did)
        return min((Window(each.amount, each.amount - count, end) for each, (count, end) in zip(layout, counts,
                                                                                                strict=True)),
                   key=lambda w: (w.remaining, -w.reset_at))

    def check_blocked(self, address: str) -> None:
        """Before any key lookup: refuse an address already over its unauthenticated limit."""
        until = self._blocked.get(address)
        if until is None:
            return
        if until <= time.time():
            self._blocked.pop(address, None)
            return
        self._refuse(Window(self.anonymous[0].amount, -1, until), "unauthenticated requests from this address")

    def hit_key(self, key_id: str) -> None:
        """Count a request made with a valid key; 429 over the limit."""
        window = request.environ[WINDOW] = self._hit(self.per_key, "key:" + key_id)
        if not window.allowed:
            self._refuse(window, "requests with this key")

    def hit_address(self, address: str) -> None:
        """Count an unauthenticated request (no key, a wrong key, a public route); 429 over the limit."""
        window = request.environ[WINDOW] = self._hit(self.anonymous, "ip:" + address)
        if window.remaining <= 0:
            # its budget is spent: refuse its next requests before looking their keys up
            if len(self._blocked) > MAX_LOCAL_WINDOWS:
                self._blocked.clear()
            self._blocked[address] = window.reset_at
        if not window.allowed:
            self._refuse(window, "unauthenticated requests from this address")

    @staticmethod
    def _refuse(window: Window, what: str) -> None:
        request.environ[WINDOW] = window
        retry_after = max(1, int(_reset_epoch(window) - time.time()))
        raise RateLimitError(f"rate limit of {window.limit} {what} exceeded; retry in {retry_after}s",
                             retry_after=retry_after, headers={"Retry-After": str(retry_after)})


def _reset_epoch(window: Window) -> int:
    # whole seconds, rounded up: a client that waits until then finds a fresh window
    return int(window.reset_at + 1)


def rate_headers(window: Window) -> list[tuple[str, str]]:
    """The six headers describing a window (the WSGI edge adds them to the answer)."""
    reset = _reset_epoch(window)
    limit, remaining = str(window.limit), str(max(0, window.remaining))
    return [("RateLimit-Limit", limit), ("RateLimit-Remaining", remaining),
            ("RateLimit-Reset", str(max(0, int(reset - time.time())))),  # IETF draft: seconds from now
            ("X-RateLimit-Limit", limit), ("X-RateLimit-Remaining", remaining),
            ("X-RateLimit-Reset", str(reset))]  # epoch, as flask-limiter sent it


def _parse(name: str, value: str) -> list[RateLimitItem]:
    try:
        items = parse_many(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={value!r} is not a rate limit such as 120/minute") from exc
    if not items:
        raise ConfigurationError(f"{name}={value!r} is not a rate limit such as 120/minute")
    return items


def build(per_key: tuple[str, str], anonymous: tuple[str, str], redis_url: str | None) -> Limiter:
    """A limiter from (setting name, value) pairs such as ("POSTDODO_RATE_LIMIT", "120/minute")."""
    return Limiter(per_key=_parse(*per_key), anonymous=_parse(*anonymous),
                   shared=_Shared(redis_url) if redis_url else None)


def init_app(app: Flask, settings: Settings) -> None:
    """The app's limiter: auth counts each /v1 request in it, the WSGI edge writes the window's headers."""
    app.extensions["postdodo.limiter"] = build(("POSTDODO_RATE_LIMIT", settings.rate_limit),
                                               ("POSTDODO_RATE_LIMIT_ANONYMOUS", settings.rate_limit_anonymous),
                                               settings.redis_url)
