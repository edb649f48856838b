"""The outbox: an event and its deliveries commit or roll back with the change that caused them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from postdodo_connect.storage import posts as posts_store
from postdodo_connect.storage.events import emit
from postdodo_connect.storage.schema import deliveries, events, posts, targets

from .conftest import Env, Receiver, Reply


class Boom(Exception):
    pass


def count(env: Env, table) -> int:  # type: ignore[no-untyped-def]
    with env.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_failed_transaction_leaves_neither_the_change_nor_the_event(env: Env, receiver: Receiver) -> None:
    env.webhook(receiver.url)
    account = {"id": env.account(), "platform": "bluesky"}
    before = (count(env, posts), count(env, events), count(env, deliveries))
    with pytest.raises(Boom), env.db.write() as conn:
        posts_store.create_post(conn, env.workspace_id, caption="never", media=[], accounts=[account],
                                scheduled_at=env.clock() + timedelta(hours=1), now=env.clock())
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == before[1] + 1
        raise Boom
    assert (count(env, posts), count(env, events), count(env, deliveries)) == before
    env.drain()
    assert receiver.hits == []


def test_a_committed_change_carries_its_event_and_deliveries(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url)
    account = {"id": env.account(), "platform": "bluesky"}
    with env.db.write() as conn:
        post = posts_store.create_post(conn, env.workspace_id, caption="later", media=[], accounts=[account],
                                       scheduled_at=env.clock() + timedelta(hours=1), now=env.clock())
    [row] = env.delivery_rows(endpoint["id"])
    assert row["status"] == "pending" and row["next_attempt_at"] == env.clock()
    env.drain()
    assert receiver.hits[0].json()["event"] == "post.scheduled"
    assert receiver.hits[0].json()["data"]["post_id"] == post["id"]


def test_a_cancel_that_rolls_back_emits_nothing(env: Env, receiver: Receiver) -> None:
    account = env.account()
    post = env.ok("POST", "/v1/posts", {"caption": "later", "account_ids": [account],
                                        "scheduled_at": "2099-01-01T00:00:00Z"}, 201)
    env.webhook(receiver.url)
    with pytest.raises(Boom), env.db.write() as conn:
        posts_store.cancel_post(conn, env.workspace_id, post["id"], env.clock())
        raise Boom
    assert env.ok("GET", f"/v1/posts/{post['id']}")["status"] == "scheduled"
    assert env.delivery_rows() == []


def test_a_publish_whose_transaction_fails_emits_no_post_published(env: Env, receiver: Receiver,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    env.webhook(receiver.url)
    post = env.publish([env.account()])

    def broken(*_args: object, **_kwargs: object) -> str:
        raise Boom

    monkeypatch.setattr("postdodo_connect.engine.publisher.posts_store.refresh_status", broken)
    env.drain()  # the publisher treats the crash as an unknown outcome and schedules a retry
    with env.db.read() as conn:
        status = conn.execute(select(targets.c.status).where(targets.c.post_id == post["id"])).scalar_one()
        kinds = list(conn.execute(select(events.c.type)).scalars())
    assert status == "retrying"  # the confirm rolled back together with its event
    assert "post.published" not in kinds and "post.retrying" in kinds
    assert [h.json()["event"] for h in receiver.hits] == ["post.retrying"]


def test_emit_fans_out_only_to_subscribed_enabled_live_endpoints(env: Env, receivers) -> None:
    every = env.webhook(receivers().url)
    wanted = env.webhook(receivers().url, ["post.failed", "post.retrying"])
    unwanted = env.webhook(receivers().url, ["post.published"])
    gone = env.webhook(receivers().url)
    env.ok("DELETE", f"/v1/webhooks/{gone['id']}")
    with env.db.write() as conn:
        event = emit(conn, env.workspace_id, "post.failed", {"post_id": "p"}, now=env.clock())
    rows = env.delivery_rows()
    assert sorted(r["endpoint_id"] for r in rows) == sorted([every["id"], wanted["id"]])
    assert {r["event_id"] for r in rows} == {event["id"]}
    assert unwanted["id"] not in {r["endpoint_id"] for r in rows}


def test_events_while_disabled_are_not_queued_for_later(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(410)]
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    missed = env.emit()
    env.ok("POST", f"/v1/webhooks/{endpoint['id']}/enable")
    env.drain()
    assert missed["id"] not in {h.json()["id"] for h in receiver.hits}
    # the missed event can still be fetched again on purpose
    env.ok("POST", f"/v1/events/{missed['id']}/redeliver", status=202)
    env.drain()
    assert receiver.hits[-1].json()["id"] == missed["id"]
