"""A real HTTP receiver gets signed post.published deliveries shaped like the reference payload."""

from __future__ import annotations

import re

import pytest
from standardwebhooks.webhooks import Webhook

from postdodo_connect import Event, __version__, signing
from postdodo_connect.engine.deliveries import BODY_KEPT

from .conftest import Env, Receiver, Reply

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def published_hit(env: Env, receiver: Receiver) -> tuple[dict, dict, str]:
    """Publish a sandbox post to a fresh endpoint; returns (endpoint, post, account id) after delivery."""
    account = env.account("bluesky", "alice")
    endpoint = env.webhook(receiver.url, ["post.published"])
    post = env.publish([account])
    env.drain()
    return endpoint, post, account


def test_post_published_reaches_a_real_receiver_with_the_reference_payload(env: Env, receiver: Receiver) -> None:
    endpoint, post, account = published_hit(env, receiver)
    [hit] = receiver.hits
    payload = hit.json()
    assert list(payload) == ["id", "event", "created_at", "data"]
    assert payload["id"].startswith("evt_")
    assert payload["event"] == "post.published"
    assert TIME.fullmatch(payload["created_at"])
    data = payload["data"]
    assert {"post_id", "account_id", "platform", "status", "permalink"} <= set(data)
    assert data["post_id"] == post["id"]
    assert data["account_id"] == account
    assert data["platform"] == "bluesky"
    assert data["status"] == "confirmed"
    assert data["permalink"].startswith("https://bsky.app/profile/alice")
    target = env.ok("GET", f"/v1/posts/{post['id']}")["targets"][0]
    assert target["permalink"] == data["permalink"]


def test_delivery_headers_and_both_signature_checks(env: Env, receiver: Receiver) -> None:
    endpoint, _, _ = published_hit(env, receiver)
    [hit] = receiver.hits
    headers = {name.lower(): value for name, value in hit.headers.items()}
    assert hit.method == "POST" and hit.path == "/hook"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"PostDodo-Webhooks/{__version__}"
    event_id = hit.json()["id"]
    assert headers["x-postdodo-id"] == headers["webhook-id"] == event_id
    assert headers["x-postdodo-timestamp"] == headers["webhook-timestamp"] == str(int(env.clock().timestamp()))
    assert headers["x-postdodo-signature"] == headers["webhook-signature"]
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]+=*", headers["x-postdodo-signature"])
    # our own verifier, on the branded headers and on the Standard Webhooks ones
    verified = signing.verify(endpoint["secret"], hit.headers, hit.body, now=env.clock().timestamp())
    assert verified == signing.Verified(event_id, int(env.clock().timestamp()))
    standard_only = {k: v for k, v in hit.headers.items() if k.lower().startswith("webhook-")}
    assert signing.verify(endpoint["secret"], standard_only, hit.body, now=env.clock().timestamp())
    # and an independent Standard Webhooks implementation
    assert Webhook(endpoint["secret"]).verify(hit.body, standard_only)["id"] == event_id
    with pytest.raises(Exception):  # noqa: B017 (the library raises its own error type)
        Webhook(signing.generate_secret()).verify(hit.body, standard_only)


def test_the_delivery_is_logged_with_time_status_and_latency(env: Env, receiver: Receiver) -> None:
    endpoint, _, _ = published_hit(env, receiver)
    [delivery] = env.ok("GET", f"/v1/webhooks/{endpoint['id']}/deliveries")["data"]
    assert delivery["status"] == "delivered"
    assert delivery["event"] == "post.published"
    assert delivery["event_id"] == receiver.hits[0].json()["id"]
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    [attempt] = delivery["log"]
    assert TIME.fullmatch(attempt["attempted_at"])
    assert attempt["status_code"] == 200
    assert attempt["latency_ms"] >= 0
    assert attempt["error"] is None
    assert env.attempts(delivery["id"])[0]["response_body"] == "ok"


def test_the_timestamp_is_the_attempts_own_and_the_event_id_never_changes(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(500), Reply(500)]
    endpoint = env.webhook(receiver.url)
    event = env.emit("post.failed", {"post_id": "post_1"})
    env.drain()
    env.advance_to_next()
    env.advance_to_next()
    assert len(receiver.hits) == 3
    stamps = [int(hit.headers["X-PostDodo-Timestamp"]) for hit in receiver.hits]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert stamps[0] == int(event["created_at"].timestamp())
    for hit in receiver.hits:
        assert hit.headers["X-PostDodo-Id"] == event["id"] == hit.json()["id"]
        assert hit.json()["created_at"] == receiver.hits[0].json()["created_at"]  # the event's time
        assert signing.verify(endpoint["secret"], hit.headers, hit.body, now=int(hit.headers["webhook-timestamp"]))


def test_response_body_is_kept_up_to_64_kb(env: Env, receiver: Receiver) -> None:
    receiver.default = Reply(200, body=b"x" * (BODY_KEPT * 3))
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    [row] = env.delivery_rows(endpoint["id"])
    assert row["status"] == "delivered"
    assert env.attempts(row["id"])[0]["response_body"] == "x" * BODY_KEPT
    assert BODY_KEPT == 64 * 1024


def test_a_binary_response_body_stays_within_the_limit(env: Env, receiver: Receiver) -> None:
    receiver.default = Reply(500, body=b"\xff" * (BODY_KEPT + 10))
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    [row] = env.delivery_rows(endpoint["id"])
    assert len(env.attempts(row["id"])[0]["response_body"].encode()) <= BODY_KEPT


def test_every_event_type_is_delivered_to_an_unfiltered_endpoint(env: Env, receiver: Receiver) -> None:
    env.webhook(receiver.url)
    account = env.account()
    post = env.publish([account])
    env.drain()
    scheduled = env.ok("POST", "/v1/posts", {"caption": "later", "account_ids": [account],
                                             "scheduled_at": "2099-01-01T00:00:00Z"}, 201)
    env.ok("DELETE", f"/v1/posts/{scheduled['id']}")
    env.ok("DELETE", f"/v1/accounts/{account}")
    env.drain()
    kinds = [hit.json()["event"] for hit in receiver.hits]
    assert kinds == ["post.published", "post.completed", "post.scheduled", "post.canceled", "account.disconnected"]
    completed = receiver.hits[1].json()["data"]
    assert completed["post_id"] == post["id"] and completed["status"] == "published"
    for hit in receiver.hits:
        assert hit.headers["X-PostDodo-Id"] == hit.json()["id"]


def test_deliveries_carry_each_posts_sequence(env: Env, receiver: Receiver) -> None:
    """A consumer orders a post's events by data.sequence (Event.sequence), whatever order they arrive in."""
    env.webhook(receiver.url)
    first, second = env.account("bluesky", "one"), env.account("mastodon", "two")
    post = env.publish([first, second])
    env.drain()
    scheduled = env.ok("POST", "/v1/posts", {"caption": "later", "account_ids": [first],
                                             "scheduled_at": "2099-01-01T00:00:00Z"}, 201)
    env.ok("DELETE", f"/v1/posts/{scheduled['id']}")
    env.drain()
    events = [Event.model_validate(hit.json()) for hit in receiver.hits]
    mine = sorted((e for e in events if e.post_id == post["id"]), key=lambda e: e.sequence or 0)
    assert [(e.event, e.sequence) for e in mine] == [("post.published", 1), ("post.published", 2),
                                                     ("post.completed", 3)]
    assert {e.data["account_id"] for e in mine[:2]} == {first, second}
    later = [(e.event, e.sequence) for e in events if e.post_id == scheduled["id"]]
    assert later == [("post.scheduled", 1), ("post.canceled", 2)]
