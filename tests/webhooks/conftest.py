"""Webhook test kit: a fake clock, a real HTTP receiver, and the service in-process driven tick by tick."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from postdodo_connect.api import Service, create_app
from postdodo_connect.config import Settings
from postdodo_connect.engine import Runtime
from postdodo_connect.engine.scheduler import Scheduler
from postdodo_connect.storage import Database
from postdodo_connect.storage import keys as keys_store
from postdodo_connect.storage.events import emit
from postdodo_connect.storage.schema import deliveries, delivery_attempts, webhook_endpoints
from tests.support.factory import fresh_database
from tests.support.server import wait_until

SECRET_KEY = "webhook-tests-secret-key-0123456789"


class FakeClock:
    """A clock the test moves by hand; starts at the real time so timestamps stay verifiable."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)
        return self.now

    def set(self, when: datetime) -> datetime:
        """Jump to `when` (never backwards)."""
        self.now = max(self.now, when)
        return self.now


@dataclass
class Hit:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    """What the receiver answers."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds slept before answering (a slow receiver)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops connections from 8 parallel workers

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the sender hangs up early on purpose (body caps, timeouts)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every request and answers from a script."""

    def __init__(self, port: int = 0) -> None:
        self.hits: list[Hit] = []
        self.script: list[Reply] = []  # answers used first, one per request
        self.default = Reply()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                hit = Hit(self.command, self.path, dict(self.headers.items()), body, time.time())
                with receiver.lock:
                    receiver.hits.append(hit)
                    reply = receiver.script.pop(0) if receiver.script else receiver.default
                if reply.delay:
                    time.sleep(reply.delay)  # the receiver is slow on purpose
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Hit]:
        """Poll until `count` requests arrived."""
        wait_until(lambda: len(self.hits) >= count, timeout, what=f"{count} webhook requests")
        return self.hits

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class InlineDispatcher:
    """Runs each claimed job at once on the calling thread, one per kind per tick."""

    def __init__(self, run: dict[str, Callable[[str, int], object]]) -> None:
        self.run = run
        self.results: list[tuple[str, str, object]] = []

    def free_slots(self, kind: str) -> int:
        return 1

    def submit(self, kind: str, jobs: list[tuple[str, int]]) -> None:
        for row_id, attempt in jobs:
            self.results.append((kind, row_id, self.run[kind](row_id, attempt)))

    def close(self) -> None:
        pass


@dataclass
class Env:
    """The service in-process: API test client, engine driven by `drain()`, a fake clock."""

    db: Database
    clock: Any  # a FakeClock unless the test runs real threads
    runtime: Runtime
    scheduler: Scheduler
    dispatcher: InlineDispatcher
    app: Flask
    key: str
    workspace_id: str

    @property
    def deliverer(self) -> Any:
        return self.runtime.deliverer

    def call(self, method: str, path: str, json: Any = None, key: str | None = None, **kwargs: Any) -> Any:
        """One API request with the workspace's key."""
        headers = {"Authorization": f"Bearer {key or self.key}"}
        return self.app.test_client().open(path, method=method, json=json, headers=headers, **kwargs)

    def ok(self, method: str, path: str, json: Any = None, status: int = 200, **kwargs: Any) -> Any:
        """An API request that must answer `status`; returns the JSON body."""
        response = self.call(method, path, json, **kwargs)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def account(self, platform: str = "bluesky", handle: str = "tester") -> str:
        """A new sandbox account's id."""
        return str(self.ok("POST", "/v1/accounts", {"platform": platform, "mode": "sandbox", "handle": handle},
                           201)["id"])

    def webhook(self, url: str, events: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        """Register an endpoint; the answer carries its secret."""
        body: dict[str, Any] = {"url": url, **extra}
        if events is not None:
            body["events"] = events
        return dict(self.ok("POST", "/v1/webhooks", body, 201))

    def publish(self, account_ids: list[str], caption: str = "hello from the webhook tests") -> dict[str, Any]:
        """Create a publish-now post."""
        return dict(self.ok("POST", "/v1/posts", {"caption": caption, "account_ids": account_ids}, 201))

    def emit(self, event_type: str = "post.failed", data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store an event through the outbox, as the engine does."""
        with self.db.write() as conn:
            return emit(conn, self.workspace_id, event_type, data or {"post_id": "post_x"}, now=self.clock())

    def drain(self, max_ticks: int = 1000) -> int:
        """Tick until nothing is due now; returns how many jobs ran."""
        ran = 0
        for _ in range(max_ticks):
            done = self.scheduler.tick()
            if not done:
                return ran
            ran += done
        raise AssertionError("the scheduler never ran dry")

    def next_due(self) -> datetime | None:
        """When the earliest pending delivery is due."""
        with self.db.read() as conn:
            return conn.execute(select(deliveries.c.next_attempt_at).where(deliveries.c.status == "pending")
                                .order_by(deliveries.c.next_attempt_at).limit(1)).scalar()

    def advance_to_next(self) -> float:
        """Move the clock to the next due delivery and run it; returns the seconds skipped."""
        due = self.next_due()
        assert due is not None, "no pending delivery"
        before = self.clock()
        self.clock.set(due)
        self.drain()
        return (due - before).total_seconds()

    def delivery_rows(self, endpoint_id: str | None = None) -> list[dict[str, Any]]:
        """Every delivery row (of one endpoint), oldest first."""
        query = select(deliveries).order_by(deliveries.c.created_at, deliveries.c.id)
        if endpoint_id:
            query = query.where(deliveries.c.endpoint_id == endpoint_id)
        with self.db.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def attempts(self, delivery_id: str) -> list[dict[str, Any]]:
        """The attempt log of one delivery, stored columns included."""
        with self.db.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(delivery_attempts).where(delivery_attempts.c.delivery_id == delivery_id)
                .order_by(delivery_attempts.c.id))]

    def endpoint_row(self, endpoint_id: str) -> dict[str, Any]:
        with self.db.read() as conn:
            return dict(conn.execute(select(webhook_endpoints)
                                     .where(webhook_endpoints.c.id == endpoint_id)).one()._mapping)


def build_env(path: Path, *, resolver: Any = None, clock: Any = None, **overrides: Any) -> Env:
    """The service on a fresh SQLite file with one sandbox workspace (`clock=utcnow` for threaded tests)."""
    settings = Settings.from_env({}, **({"database_url": f"sqlite:///{path / 'webhooks.db'}",
                                         "secret_key": SECRET_KEY, "webhook_allow_private": True,
                                         "rate_limit": "100000/minute"} | overrides))
    clock = clock or FakeClock()
    db = fresh_database(settings.database_url)
    runtime = Runtime(settings, db, clock=clock, sandbox_sleep=lambda _s: None)
    runtime.deliverer.resolver = resolver
    dispatcher = InlineDispatcher({"publish": runtime.publisher.run, "deliver": runtime.deliverer.run})
    scheduler = Scheduler(db, dispatcher, clock, lease_seconds=300, tick_seconds=0.5, batch=200)
    service = Service(settings=runtime.settings, db=db, vault=runtime.vault, clock=clock)
    app = create_app({"WEBHOOK_RESOLVER": resolver, "ACCESS_LOG": False}, service=service)
    with db.write() as conn:
        workspace = keys_store.create_workspace(conn, "webhooks", test=True)
        _, key = keys_store.create_key(conn, workspace)
    return Env(db, clock, runtime, scheduler, dispatcher, app, key, workspace["id"])


@pytest.fixture
def make_env(tmp_path: Path) -> Iterator[Callable[..., Env]]:
    """Build an Env with settings overrides (and a resolver for the SSRF tests)."""
    built: list[Env] = []

    def make(**overrides: Any) -> Env:
        folder = tmp_path / f"env{len(built)}"
        folder.mkdir()
        env = build_env(folder, **overrides)
        built.append(env)
        return env

    yield make
    for env in built:
        env.runtime.stop()
        env.db.dispose()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    """The default Env: private addresses allowed (the receiver is on 127.0.0.1)."""
    return make_env()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver answering 200."""
    found = Receiver()
    yield found
    found.stop()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """Start more receivers (optionally on a given port)."""
    started: list[Receiver] = []

    def start(port: int = 0) -> Receiver:
        found = Receiver(port)
        started.append(found)
        return found

    yield start
    for found in started:
        found.stop()
