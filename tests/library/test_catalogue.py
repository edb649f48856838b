"""Every catalogue action and trigger run against a live server; samples match what runs return."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from postdodo_connect import Client, Post, verify
from postdodo_connect.automation import ACTIONS, TRIGGERS, action, event_items, split_values, trigger
from tests.library.conftest import Sink
from tests.support.server import Server, wait_until

MEDIA = "https://picsum.photos/id/237/1080/1080"


def jsonable(value: Any) -> Any:
    """The value after a JSON round trip (fails on anything that is not plain data)."""
    return json.loads(json.dumps(value))


def test_definitions_are_consistent() -> None:
    keys = [a.key for a in ACTIONS] + [t.key for t in TRIGGERS]
    assert len(keys) == len(set(keys))
    assert {a.key for a in ACTIONS} == {"create_post", "cancel_post", "get_post", "list_accounts"}
    assert {t.key for t in TRIGGERS} == {"post_published", "post_failed", "post_completed", "new_post"}
    for item in (*ACTIONS, *TRIGGERS):
        assert item.label and item.description and item.sample
        assert len({f.key for f in item.fields}) == len(item.fields)
        assert all(f.help for f in item.fields)
        jsonable(item.sample)
    for t in TRIGGERS:
        assert "id" in t.sample
        if t.kind == "webhook":
            assert t.event and t.subscribe and t.unsubscribe and t.perform
    # post samples are real posts
    for key in ("create_post", "cancel_post", "get_post"):
        Post.model_validate(action(key).sample)


def test_split_values() -> None:
    assert split_values("acct_a, acct_b;acct_c  acct_d") == ["acct_a", "acct_b", "acct_c", "acct_d"]
    assert split_values(["acct_a", " ", "acct_b "]) == ["acct_a", "acct_b"]
    assert split_values(None) == [] and split_values("") == []


def test_list_accounts(client: Client) -> None:
    items = jsonable(action("list_accounts").run(client))
    assert {i["platform"] for i in items} == {"instagram", "bluesky", "mastodon", "x"}
    assert set(action("list_accounts").sample) == set(items[0])
    assert all(i["label"] for i in items)


def test_create_get_cancel_post(client: Client, accounts: dict[str, str]) -> None:
    when = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = jsonable(action("create_post").run(client, caption="from the catalogue",
                                                 account_ids=f"{accounts['instagram']}, {accounts['x']}",
                                                 scheduled_at=when, media=MEDIA, idempotency_key=""))
    assert created["status"] == "scheduled" and created["scheduled_at"] == when
    assert set(created) == set(action("create_post").sample)
    found = action("get_post").run(client, post_id=created["id"])
    assert [p["id"] for p in found] == [created["id"]]
    assert action("get_post").run(client, post_id="post_missing") == []
    canceled = action("cancel_post").run(client, post_id=created["id"])
    assert canceled["status"] == "canceled" and set(canceled) == set(action("cancel_post").sample)


def test_create_post_now_publishes(client: Client, accounts: dict[str, str]) -> None:
    created = action("create_post").run(client, caption="now", account_ids=[accounts["bluesky"]],
                                        scheduled_at=None, media=None)
    assert created["status"] == "publishing"
    assert client.posts.wait(created["id"], timeout=30, interval=0.1).status == "published"


@pytest.mark.parametrize("key", ["post_published", "post_failed", "post_completed"])
def test_webhook_trigger_subscribe_and_unsubscribe(client: Client, sink: Sink, key: str) -> None:
    t = trigger(key)
    assert t.subscribe is not None and t.unsubscribe is not None
    subscription = jsonable(t.subscribe(client, sink.url))
    assert subscription["id"].startswith("wh_") and subscription["secret"].startswith("whsec_")
    endpoint = client.webhooks.get(subscription["id"])
    assert endpoint.events == [t.event] and endpoint.url == sink.url
    t.unsubscribe(client, subscription["id"])
    assert subscription["id"] not in {w.id for w in client.webhooks.list()}
    t.unsubscribe(client, subscription["id"])  # twice is fine: shells retry unsubscribes


def test_post_published_end_to_end(client: Client, accounts: dict[str, str], sink: Sink) -> None:
    t = trigger("post_published")
    assert t.subscribe and t.unsubscribe and t.perform
    subscription = t.subscribe(client, sink.url)
    try:
        post = client.posts.create("trigger me", [accounts["mastodon"]])
        headers, event, body = sink.next_event("post.published")
        verify(subscription["secret"], headers, body)
        items = jsonable(t.perform(event))
        assert items[0]["id"] == event["id"] and items[0]["post_id"] == post.id and items[0]["permalink"]
        assert set(items[0]) == set(t.sample)
    finally:
        t.unsubscribe(client, subscription["id"])
    recent = jsonable(t.run(client))
    assert any(i["post_id"] == post.id and i["permalink"] for i in recent)
    assert set(recent[0]) == set(t.sample)


def test_post_completed_examples(client: Client, accounts: dict[str, str]) -> None:
    post = client.posts.create("complete me", [accounts["x"]])
    client.posts.wait(post.id, timeout=30, interval=0.1)
    items = jsonable(trigger("post_completed").run(client))
    mine = [i for i in items if i["post_id"] == post.id]
    assert mine and mine[0]["status"] == "published" and set(mine[0]) == set(trigger("post_completed").sample)


def test_post_failed_examples(client: Client, live_server: Server) -> None:
    # a sandbox account whose every publish is refused by the "platform"
    answer = live_server.session().post(f"{live_server.url}/v1/accounts", json={
        "platform": "bluesky", "handle": "always_refused", "sandbox": {"reject_rate": 1}})
    assert answer.status_code == 201, answer.text
    post = client.posts.create("doomed", [answer.json()["id"]])
    assert client.posts.wait(post.id, timeout=30, interval=0.1).status == "failed"
    items = jsonable(trigger("post_failed").run(client))
    mine = [i for i in items if i["post_id"] == post.id]
    assert mine and mine[0]["error"]["code"] and set(mine[0]) == set(trigger("post_failed").sample)


def test_event_items_flatten_an_envelope() -> None:
    envelope = {"id": "evt_1", "event": "post.failed", "created_at": "2030-01-01T00:00:00Z",
                "data": {"post_id": "post_1", "status": "failed"}}
    assert event_items(envelope) == [{"id": "evt_1", "event": "post.failed", "created_at": "2030-01-01T00:00:00Z",
                                      "post_id": "post_1", "status": "failed"}]


def test_new_post_polls_and_deduplicates(client: Client, accounts: dict[str, str]) -> None:
    t = trigger("new_post")
    assert t.kind == "polling"
    seen: set[str] = set()
    client.posts.create("before", [accounts["x"]], scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    first = t.poll_new(client, seen)
    assert first and all(i["id"] in seen for i in first)
    assert t.poll_new(client, seen) == []  # nothing new, nothing again
    fresh = client.posts.create("after", [accounts["x"]], scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    newer = wait_until(lambda: t.poll_new(client, seen), timeout=5, what="the new post")
    assert [i["id"] for i in newer] == [fresh.id]
    assert set(newer[0]) == set(t.sample)
    scheduled = jsonable(t.run(client, status="scheduled"))
    assert scheduled and all(i["status"] == "scheduled" for i in scheduled)
