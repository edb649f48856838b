"""Waking the engine from other processes: the API rings when work became due now, the scheduler ticks at once.

One interface, two transports, chosen from the settings:

    API process                         engine process
    bell(settings).ring()  ──────────▶  listen(settings, scheduler.kick)
      POSTDODO_REDIS_URL set:  Redis pub/sub on ``postdodo:wake:<db>`` (any number of machines)
      otherwise:               a Unix datagram socket named after the database (one machine)

A ring is a hint, never the only way work starts: a lost one costs at most one tick (POSTDODO_TICK_SECONDS).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..config import Settings

log = logging.getLogger("postdodo.wake")
CHANNEL = "postdodo:wake"
RETRY_AFTER = 5.0  # seconds a failing Redis bell stays quiet, so requests never queue on a dead Redis
_MAX_SUN_PATH = 100  # sockaddr_un holds 104-108 bytes depending on the system


class Bell(Protocol):
    """The API side: tell the engine that something is due now."""

    def ring(self) -> None:
        """Wake the engine; never raises, never blocks for long."""


class Listener(Protocol):
    """The engine side: calls its callback on every ring until closed."""

    def close(self) -> None:
        """Stop listening and release the socket or connection."""


def bell(settings: Settings) -> Bell:
    """The bell that reaches the engine of these settings (a silent one with POSTDODO_WAKE=0)."""
    if not settings.wake:
        return _Silent()
    if settings.redis_url:
        return _RedisBell(settings.redis_url)
    return _SocketBell(socket_path(settings.database_url))


def listen(settings: Settings, on_wake: Callable[[], None]) -> Listener:
    """Call `on_wake` (from a background thread) each time a bell of these settings rings."""
    if not settings.wake:
        return _Silent()
    if settings.redis_url:
        return _RedisListener(settings.redis_url, on_wake)
    return _SocketListener(socket_path(settings.database_url), on_wake)


def socket_path(database_url: str) -> str:
    """Beside the SQLite file (``postdodo.db.wake``); in the temp directory, named by a hash, otherwise."""
    if database_url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        path = os.path.abspath(make_url(database_url).database or "postdodo.db") + ".wake"
        if len(path.encode()) <= _MAX_SUN_PATH:
            return path
        name = path
    else:
        name = database_url  # hashed: the URL may carry a password
    return os.path.join(tempfile.gettempdir(), f"postdodo-{hashlib.sha256(name.encode()).hexdigest()[:16]}.wake")


def channel(redis: Any) -> str:
    """The pub/sub channel: per Redis database number, as pub/sub itself spans all of them."""
    return f"{CHANNEL}:{redis.connection_pool.connection_kwargs.get('db', 0)}"


class _Silent:
    def ring(self) -> None:
        pass

    def close(self) -> None:
        pass


class _SocketBell:
    """One non-blocking datagram per ring; no engine listening (or a full buffer: it is awake) is fine."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setblocking(False)

    def ring(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendto(b"!", self.path)


class _SocketListener:
    def __init__(self, path: str, on_wake: Callable[[], None]) -> None:
        self.path, self.on_wake = path, on_wake
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # left by an engine that was killed; the newest engine is the one woken
        self.sock.bind(self.path)
        self.inode = os.stat(self.path).st_ino
        self.sock.settimeout(1.0)  # so close() never waits on a socket another engine took over
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._run, name="postdodo-wake", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.closed.is_set():
            try:
                self.sock.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.closed.is_set():
                self.on_wake()

    def close(self) -> None:
        self.closed.set()
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as last:
            last.sendto(b"!", self.path)  # unblocks recv() at once
        self.thread.join(timeout=2)
        self.sock.close()
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self.inode:  # not the socket of an engine started since
                os.unlink(self.path)


class _RedisBell:
    def __init__(self, url: str) -> None:
        from redis import Redis

        self.redis = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self.channel = channel(self.redis)
        self.quiet_until = 0.0

    def ring(self) -> None:
        if time.monotonic() < self.quiet_until:
            return
        try:
            self.redis.publish(self.channel, b"")
        except Exception as exc:  # the engine's tick picks the work up anyway
            self.quiet_until = time.monotonic() + RETRY_AFTER
            log.warning("could not wake the engine through Redis (%s); it will tick", type(exc).__name__)


class _RedisListener:
    def __init__(self, url: str, on_wake: Callable[[], None]) -> None:
        from redis import Redis

        self.redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)
        self.channel, self.on_wake = channel(self.redis), on_wake
        self.closed = threading.Event()
        self.lost = False  # an outage is logged when it starts and when it ends, not every retry
        try:
            self.pubsub: Any = self._subscribe()  # at once: a ring right after start must not be lost
        except Exception as exc:  # Redis down at start: the engine runs on its tick, _run keeps trying
            self._lose(exc)
        self.thread = threading.Thread(target=self._run, name="postdodo-wake", daemon=True)
        self.thread.start()

    def _subscribe(self) -> Any:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(self.channel)
        return pubsub

    def _run(self) -> None:
        while not self.closed.is_set():
            try:
                if self.pubsub is None:
                    self.pubsub = self._subscribe()
                    if self.lost:
                        self.lost = False
                        log.info("wake-up channel back")
                    self.on_wake()  # rings may have been lost while Redis was away
                if self.pubsub.get_message(timeout=0.5) is not None:
                    self.on_wake()
            except Exception as exc:
                with contextlib.suppress(Exception):
                    if self.pubsub is not None:
                        self.pubsub.close()
                self._lose(exc)
                self.closed.wait(1.0)

    def _lose(self, exc: Exception) -> None:
        if not self.lost:
            log.warning("wake-up channel lost (%s); retrying, the engine ticks meanwhile", type(exc).__name__)
        self.lost, self.pubsub = True, None

    def close(self) -> None:
        self.closed.set()
        self.thread.join(timeout=2)
        with contextlib.suppress(Exception):
            if self.pubsub is not None:
                self.pubsub.close()
        self.redis.close()
