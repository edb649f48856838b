"""Retention, driven by the injected clock on SQLite and PostgreSQL: what goes when, and what stays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from postdodo_connect.engine.runtime import retention_of
from postdodo_connect.engine.scheduler import PURGE_EVERY
from postdodo_connect.storage import connect as connect_store
from postdodo_connect.storage import keys as keys_store
from postdodo_connect.storage import retention
from postdodo_connect.storage import webhooks as webhooks_store
from postdodo_connect.storage.events import emit
from postdodo_connect.storage.retention import DAY, Purger, Retention
from postdodo_connect.storage.schema import connect_sessions, delivery_attempts, events, idempotency_keys
from tests.engine.conftest import Engine, build_engine
from tests.webhooks.conftest import Receiver


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[Engine]:
    """An engine (webhooks to 127.0.0.1 allowed) on each database."""
    url = f"sqlite:///{tmp_path / 'retention.db'}" if request.param == "sqlite" else pg_url
    built = build_engine(url, webhook_allow_private=True)
    yield built
    built.runtime.stop()
    built.api.db.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.stop()


def drain(engine: Engine) -> None:
    for _ in range(50):
        if not engine.tick():
            return
    raise AssertionError("the scheduler never ran dry")


def event_ids(engine: Engine, key: str) -> set[str]:
    response = engine.api.call("GET", "/v1/events?limit=100", key)
    assert response.status_code == 200
    return {event["id"] for event in response.get_json()["data"]}


def scalar(engine: Engine, query: Any) -> Any:
    with engine.api.db.read() as conn:
        return conn.execute(query).scalar()


def test_old_records_go_on_schedule_and_recent_ones_stay(engine: Engine, receiver: Receiver) -> None:
    key = engine.api.new_key()
    hook = engine.api.call("POST", "/v1/webhooks", key, json={"url": receiver.url}).get_json()
    account = engine.api.sandbox_account(key)
    body = {"caption": "first", "account_ids": [account["id"]]}
    first = engine.api.call("POST", "/v1/posts", key, json=body, headers={"Idempotency-Key": "day-0"})
    assert first.status_code == 201
    drain(engine)
    old_events = event_ids(engine, key)
    assert len(old_events) >= 2
    assert scalar(engine, select(func.count()).where(delivery_attempts.c.response_body == "ok")) >= 2

    # day 2: the idempotency key is past its 24 h window and gone; the same key runs a new request
    engine.clock.advance(2 * DAY)
    assert engine.scheduler.purge_if_due() == {"idempotency_keys": 1, "attempt_bodies": 0, "events": 0,
                                               "connect_sessions": 0}
    again = engine.api.call("POST", "/v1/posts", key, json=body | {"caption": "other"},
                            headers={"Idempotency-Key": "day-0"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert engine.scheduler.purge_if_due() is None  # the next pass waits PURGE_EVERY
    drain(engine)

    # day 8: attempt bodies older than 7 days are emptied; status and timing stay, events stay
    engine.clock.advance(6 * DAY)
    counts = engine.scheduler.purge_if_due()
    assert counts is not None and counts["attempt_bodies"] >= 2 and counts["events"] == 0
    week_ago = engine.clock() - timedelta(days=7)
    kept = delivery_attempts.c.response_body.is_not(None)
    assert scalar(engine, select(func.count()).where(kept, delivery_attempts.c.attempted_at < week_ago)) == 0
    assert scalar(engine, select(func.count()).where(kept, delivery_attempts.c.attempted_at > week_ago)) >= 2
    assert scalar(engine, select(func.count()).where(delivery_attempts.c.status_code == 200)) >= 4
    assert old_events <= event_ids(engine, key)

    # day 31: events older than 30 days go with their deliveries, except one whose delivery is unfinished
    engine.clock.advance(23 * DAY)
    held = sorted(old_events)[0]
    with engine.api.db.write() as conn:
        endpoint = webhooks_store.load_endpoint(conn, hook["id"])
        assert endpoint is not None
        webhooks_store.add_delivery(conn, held, hook["id"], endpoint["workspace_id"], engine.clock())
    counts = engine.scheduler.purge_if_due()
    assert counts is not None and counts["events"] >= len(old_events) - 1
    left = event_ids(engine, key)
    assert held in left and not (old_events - {held}) & left
    assert engine.api.call("GET", f"/v1/events/{sorted(old_events - {held})[0]}", key).status_code == 404
    deliveries = engine.api.call("GET", f"/v1/webhooks/{hook['id']}/deliveries", key).get_json()["data"]
    assert {d["event_id"] for d in deliveries} <= {held} | (left - old_events)

    # a new post's events are young: the next pass keeps them
    engine.post(key, [account["id"]])
    drain(engine)
    young = event_ids(engine, key) - old_events
    engine.clock.advance(PURGE_EVERY)
    engine.scheduler.purge_if_due()
    assert young and young <= event_ids(engine, key)


def _connect_session(engine: Engine, workspace_id: str, session_id: str) -> None:
    """A pending connect session, as `POST /v1/connect` stores it (a sealed verifier and all)."""
    now = engine.clock()
    with engine.api.db.write() as conn:
        connect_store.create_session(conn, session_id, workspace_id, platform="x", redirect_url="https://app.example/",
                                     redirect_uri="https://pd.example/v1/connect/callback", account_id=None,
                                     options={}, nonce="n" * 32, secret="sealed-verifier", now=now,
                                     expires_at=now + timedelta(minutes=10))


def test_connect_sessions_go_a_day_after_they_expire(engine: Engine) -> None:
    with engine.api.db.write() as conn:
        workspace = keys_store.create_workspace(conn, "live", test=False)["id"]
    _connect_session(engine, workspace, "cs_old")
    engine.clock.advance(DAY)
    _connect_session(engine, workspace, "cs_recent")
    engine.clock.advance(20 * 60)  # cs_old expired a day and ten minutes ago, cs_recent ten minutes ago
    purger = Purger(engine.api.db, Retention())
    assert purger.purge(engine.clock())["connect_sessions"] == 1
    assert set(scalar_list(engine, select(connect_sessions.c.id))) == {"cs_recent"}


def scalar_list(engine: Engine, query: Any) -> list[Any]:
    with engine.api.db.read() as conn:
        return list(conn.execute(query).scalars())


def test_zero_keeps_records_forever(engine: Engine) -> None:
    key = engine.api.new_key()
    account = engine.api.sandbox_account(key)
    engine.post(key, [account["id"]])
    drain(engine)
    before = event_ids(engine, key)
    settings = engine.runtime.settings.with_(retention_events_days=0, retention_attempt_bodies_days=0)
    purger = Purger(engine.api.db, retention_of(settings))
    engine.clock.advance(400 * DAY)
    assert purger.purge(engine.clock()) == {"idempotency_keys": 0, "attempt_bodies": 0, "events": 0,
                                            "connect_sessions": 0}
    assert event_ids(engine, key) == before


def test_a_pass_is_bounded_and_the_next_one_goes_on(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "MAX_BATCHES", 2)
    engine.api.new_key()
    with engine.api.db.write() as conn:
        for number in range(5):
            emit(conn, "ws_retention", "post.failed", {"post_id": f"post_{number}"}, now=engine.clock())
    purger = Purger(engine.api.db, Retention(), batch=2)
    engine.clock.advance(31 * DAY)
    assert purger.purge(engine.clock())["events"] == 4
    assert purger.purge(engine.clock())["events"] == 1
    assert scalar(engine, select(func.count()).select_from(events)) == 0
    assert scalar(engine, select(func.count()).select_from(idempotency_keys)) == 0
