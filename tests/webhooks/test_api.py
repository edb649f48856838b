"""/v1/webhooks and /v1/events/:id/redeliver: endpoints, subscriptions, fan-out, test events, rotation."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from postdodo_connect import signing
from postdodo_connect.api.webhooks import MAX_ENDPOINTS
from postdodo_connect.errors import SignatureError
from postdodo_connect.storage import keys as keys_store

from .conftest import Env, Receiver, Reply


def other_key(env: Env) -> str:
    with env.db.write() as conn:
        workspace = keys_store.create_workspace(conn, "other", test=True)
        _, key = keys_store.create_key(conn, workspace)
    return key


def signatures(hit) -> list[str]:  # type: ignore[no-untyped-def]
    return hit.headers["X-PostDodo-Signature"].split()


def expected(secret: str, hit) -> str:  # type: ignore[no-untyped-def]
    return signing.sign(secret, hit.headers["webhook-id"], int(hit.headers["webhook-timestamp"]), hit.body)


# --- endpoints -------------------------------------------------------------------------------------------------


def test_create_shows_the_secret_once(env: Env, receiver: Receiver) -> None:
    created = env.webhook(receiver.url, ["post.published", "post.failed", "post.published"], description="ops")
    assert created["id"].startswith("wh_")
    assert created["url"] == receiver.url
    assert created["events"] == ["post.failed", "post.published"]
    assert created["status"] == "enabled" and created["description"] == "ops"
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    listed = env.ok("GET", "/v1/webhooks")
    assert [e["id"] for e in listed["data"]] == [created["id"]] and listed["has_more"] is False
    fetched = env.ok("GET", f"/v1/webhooks/{created['id']}")
    enabled = env.ok("POST", f"/v1/webhooks/{created['id']}/enable")
    for shown in (listed["data"][0], fetched, enabled):
        assert "secret" not in shown
        assert created["secret"] not in str(shown)
    assert "secret" not in env.ok("DELETE", f"/v1/webhooks/{created['id']}")


def test_no_events_means_every_event(env: Env, receiver: Receiver) -> None:
    assert env.webhook(receiver.url)["events"] == []
    assert env.webhook(receiver.url, [])["events"] == []


@pytest.mark.parametrize(("body", "param"), [
    ({"url": "https://hooks.example.com/x", "events": ["post.exploded"]}, "events"),
    ({"events": ["post.published"]}, "url"),
    ({"url": "https://hooks.example.com/x", "secret": "mine"}, "secret"),
    ({"url": "https://hooks.example.com/x", "events": "post.published"}, "events"),
])
def test_bad_bodies_are_400(env: Env, body: dict, param: str) -> None:
    response = env.call("POST", "/v1/webhooks", body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request" and error["param"] == param


def test_a_workspace_has_a_bounded_number_of_endpoints(env: Env, receiver: Receiver) -> None:
    for _ in range(MAX_ENDPOINTS):
        env.webhook(receiver.url)
    response = env.call("POST", "/v1/webhooks", {"url": receiver.url})
    assert response.status_code == 409


def test_another_workspace_sees_404_everywhere(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url)
    event = env.emit()
    key = other_key(env)
    for method, path in [("GET", f"/v1/webhooks/{endpoint['id']}"), ("DELETE", f"/v1/webhooks/{endpoint['id']}"),
                         ("POST", f"/v1/webhooks/{endpoint['id']}/rotate"),
                         ("POST", f"/v1/webhooks/{endpoint['id']}/enable"),
                         ("POST", f"/v1/webhooks/{endpoint['id']}/test"),
                         ("GET", f"/v1/webhooks/{endpoint['id']}/deliveries"),
                         ("POST", f"/v1/events/{event['id']}/redeliver")]:
        response = env.call(method, path, key=key)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["code"] == "not_found"
    assert env.ok("GET", "/v1/webhooks", key=key)["data"] == []


def test_without_a_key_it_is_401(env: Env) -> None:
    response = env.app.test_client().get("/v1/webhooks")
    assert response.status_code == 401


def test_delete_stops_everything_for_that_endpoint(env: Env, receiver: Receiver) -> None:
    receiver.default = Reply(500)
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    assert env.delivery_rows(endpoint["id"])[0]["status"] == "pending"
    deleted = env.ok("DELETE", f"/v1/webhooks/{endpoint['id']}")
    assert deleted["status"] == "disabled"
    assert env.call("GET", f"/v1/webhooks/{endpoint['id']}").status_code == 404
    assert env.call("DELETE", f"/v1/webhooks/{endpoint['id']}").status_code == 404
    assert env.ok("GET", "/v1/webhooks")["data"] == []
    assert [r["status"] for r in env.delivery_rows(endpoint["id"])] == ["canceled"]
    env.emit()
    env.clock.advance(3600)
    env.drain()
    assert len(env.delivery_rows(endpoint["id"])) == 1 and len(receiver.hits) == 1


# --- fan-out and subscriptions ----------------------------------------------------------------------------------


def test_fan_out_is_one_delivery_per_subscribed_enabled_endpoint(env: Env, receivers) -> None:
    every, published, failed, disabled, deleted = (receivers() for _ in range(5))
    ep_every = env.webhook(every.url)
    ep_published = env.webhook(published.url, ["post.published"])
    ep_failed = env.webhook(failed.url, ["post.failed"])
    ep_disabled = env.webhook(disabled.url)
    ep_deleted = env.webhook(deleted.url)
    disabled.script = [Reply(410)]
    env.ok("POST", f"/v1/webhooks/{ep_disabled['id']}/test", status=202)
    env.drain()
    assert env.ok("GET", f"/v1/webhooks/{ep_disabled['id']}")["status"] == "disabled"
    env.ok("DELETE", f"/v1/webhooks/{ep_deleted['id']}")
    post = env.publish([env.account()])
    env.drain()
    assert [h.json()["event"] for h in every.hits] == ["post.published", "post.completed"]
    assert [h.json()["event"] for h in published.hits] == ["post.published"]
    assert failed.hits == [] and deleted.hits == [] and len(disabled.hits) == 1  # only its test event
    assert every.hits[0].json()["id"] == published.hits[0].json()["id"]
    assert every.hits[0].json()["data"]["post_id"] == post["id"]
    by_event: dict[str, list[str]] = {}
    for row in env.delivery_rows():
        by_event.setdefault(row["event_id"], []).append(row["endpoint_id"])
    published_id = published.hits[0].json()["id"]
    assert sorted(by_event[published_id]) == sorted([ep_every["id"], ep_published["id"]])
    assert ep_failed["id"] not in sum(by_event.values(), [])


def test_endpoints_of_other_workspaces_get_nothing(env: Env, receivers) -> None:
    mine, theirs = receivers(), receivers()
    env.webhook(mine.url)
    env.ok("POST", "/v1/webhooks", {"url": theirs.url}, 201, key=other_key(env))
    env.emit()
    env.drain()
    assert len(mine.hits) == 1 and theirs.hits == []


# --- test events ------------------------------------------------------------------------------------------------


def test_test_event_goes_through_the_normal_path(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url, ["post.failed"])  # the filter does not apply to test events
    sent = env.ok("POST", f"/v1/webhooks/{endpoint['id']}/test", status=202)
    assert sent["event"]["event"] == "webhook.test" and sent["event"]["id"].startswith("evt_")
    env.drain()
    [hit] = receiver.hits
    assert hit.json() == sent["event"]
    assert hit.json()["data"]["endpoint_id"] == endpoint["id"]
    assert signing.verify(endpoint["secret"], hit.headers, hit.body, now=env.clock().timestamp())
    [delivery] = env.ok("GET", f"/v1/webhooks/{endpoint['id']}/deliveries")["data"]
    assert delivery["id"] == sent["delivery_id"] and delivery["event"] == "webhook.test"
    assert delivery["status"] == "delivered"


def test_test_event_retries_like_any_other(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(503)]
    endpoint = env.webhook(receiver.url)
    env.ok("POST", f"/v1/webhooks/{endpoint['id']}/test", status=202)
    env.drain()
    env.advance_to_next()
    assert len(receiver.hits) == 2 and env.delivery_rows()[0]["status"] == "delivered"


def test_test_event_to_a_disabled_endpoint_is_409(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(410)]
    endpoint = env.webhook(receiver.url)
    env.ok("POST", f"/v1/webhooks/{endpoint['id']}/test", status=202)
    env.drain()
    assert env.call("POST", f"/v1/webhooks/{endpoint['id']}/test").status_code == 409
    env.ok("POST", f"/v1/webhooks/{endpoint['id']}/enable")
    env.ok("POST", f"/v1/webhooks/{endpoint['id']}/test", status=202)
    env.drain()
    assert receiver.hits[-1].json()["event"] == "webhook.test" and len(receiver.hits) == 2


# --- redelivery -------------------------------------------------------------------------------------------------


def test_redeliver_sends_the_same_event_id_with_new_attempts(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url)
    event = env.emit("post.failed", {"post_id": "post_r"})
    env.drain()
    env.clock.advance(3600)
    answer = env.ok("POST", f"/v1/events/{event['id']}/redeliver", status=202)
    assert answer["event_id"] == event["id"] and len(answer["deliveries"]) == 1
    env.drain()
    first, again = receiver.hits
    assert first.json() == again.json() and again.json()["id"] == event["id"]
    assert int(again.headers["webhook-timestamp"]) == int(first.headers["webhook-timestamp"]) + 3600
    assert signing.verify(endpoint["secret"], again.headers, again.body, now=env.clock().timestamp())
    data = env.ok("GET", f"/v1/webhooks/{endpoint['id']}/deliveries")["data"]
    assert [d["id"] for d in data] == [answer["deliveries"][0], data[1]["id"]]  # newest first
    assert {d["event_id"] for d in data} == {event["id"]}
    assert [len(d["log"]) for d in data] == [1, 1]


def test_redeliver_after_retries_ran_out(env: Env, receiver: Receiver) -> None:
    receiver.default = Reply(500)
    endpoint = env.webhook(receiver.url)
    event = env.emit()
    env.drain()
    while env.next_due() is not None:
        env.advance_to_next()
    assert env.delivery_rows()[0]["status"] == "failed"
    receiver.default = Reply(204, body=b"")
    env.ok("POST", f"/v1/events/{event['id']}/redeliver", status=202)
    env.drain()
    rows = env.delivery_rows(endpoint["id"])
    assert [r["status"] for r in rows] == ["failed", "delivered"]
    assert receiver.hits[-1].json()["id"] == event["id"]


def test_redeliver_to_one_endpoint(env: Env, receivers) -> None:
    a, b = receivers(), receivers()
    ep_a = env.webhook(a.url)
    env.webhook(b.url)
    event = env.emit()
    env.drain()
    env.ok("POST", f"/v1/events/{event['id']}/redeliver?endpoint_id={ep_a['id']}", status=202)
    env.drain()
    assert (len(a.hits), len(b.hits)) == (2, 1)
    assert env.call("POST", f"/v1/events/{event['id']}/redeliver?endpoint_id=wh_nope").status_code == 404


def test_redeliver_of_a_test_event_goes_to_its_endpoint_only(env: Env, receivers) -> None:
    a, b = receivers(), receivers()
    ep_a = env.webhook(a.url)
    env.webhook(b.url)
    sent = env.ok("POST", f"/v1/webhooks/{ep_a['id']}/test", status=202)
    env.ok("POST", f"/v1/events/{sent['event']['id']}/redeliver", status=202)
    env.drain()
    assert (len(a.hits), len(b.hits)) == (2, 0)


def test_redeliver_unknown_event_is_404_and_no_receiver_is_409(env: Env, receiver: Receiver) -> None:
    assert env.call("POST", "/v1/events/evt_missing/redeliver").status_code == 404
    event = env.emit()
    assert env.call("POST", f"/v1/events/{event['id']}/redeliver").status_code == 409
    env.webhook(receiver.url, ["post.published"])
    assert env.call("POST", f"/v1/events/{event['id']}/redeliver").status_code == 409  # not subscribed


# --- rotation ---------------------------------------------------------------------------------------------------


def test_rotation_signs_with_both_secrets_for_24_hours(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url)
    old = endpoint["secret"]
    rotated = env.ok("POST", f"/v1/webhooks/{endpoint['id']}/rotate")
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_") and rotated["id"] == endpoint["id"]
    assert "secret" not in env.ok("GET", f"/v1/webhooks/{endpoint['id']}")
    env.emit()
    env.drain()
    hit = receiver.hits[-1]
    both = signatures(hit)
    assert both == [expected(new, hit), expected(old, hit)]
    assert hit.headers["webhook-signature"] == hit.headers["X-PostDodo-Signature"]
    now = env.clock().timestamp()
    for secret in (old, new):  # a receiver with either secret accepts the delivery
        assert signing.verify(secret, hit.headers, hit.body, now=now)
        one = {**hit.headers, "X-PostDodo-Signature": expected(secret, hit)}
        assert signing.verify(secret, one, hit.body, now=now)
    env.clock.advance(24 * 3600 - 1)
    env.emit()
    env.drain()
    assert len(signatures(receiver.hits[-1])) == 2
    env.clock.advance(2)
    env.emit()
    env.drain()
    hit = receiver.hits[-1]
    assert signatures(hit) == [expected(new, hit)]
    assert signing.verify(new, hit.headers, hit.body, now=env.clock().timestamp())
    with pytest.raises(SignatureError):
        signing.verify(old, hit.headers, hit.body, now=env.clock().timestamp())


def test_rotation_with_expire_now_drops_the_old_secret_at_once(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url)
    new = env.ok("POST", f"/v1/webhooks/{endpoint['id']}/rotate", {"expire_now": True})["secret"]
    env.emit()
    env.drain()
    hit = receiver.hits[-1]
    assert signatures(hit) == [expected(new, hit)]
    with pytest.raises(SignatureError):
        signing.verify(endpoint["secret"], hit.headers, hit.body, now=env.clock().timestamp())


def test_a_second_rotation_keeps_only_the_secret_it_replaces(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url)
    second = env.ok("POST", f"/v1/webhooks/{endpoint['id']}/rotate")["secret"]
    third = env.ok("POST", f"/v1/webhooks/{endpoint['id']}/rotate")["secret"]
    env.emit()
    env.drain()
    hit = receiver.hits[-1]
    assert signatures(hit) == [expected(third, hit), expected(second, hit)]


def test_retries_after_a_rotation_use_the_current_secrets(env: Env, receiver: Receiver) -> None:
    receiver.script = [Reply(500)]
    endpoint = env.webhook(receiver.url)
    env.emit()
    env.drain()
    new = env.ok("POST", f"/v1/webhooks/{endpoint['id']}/rotate", {"expire_now": True})["secret"]
    env.advance_to_next()
    hit = receiver.hits[-1]
    assert signatures(hit) == [expected(new, hit)]


def test_rotate_rejects_unknown_fields(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url)
    assert env.call("POST", f"/v1/webhooks/{endpoint['id']}/rotate", {"expire": True}).status_code == 400


# --- the delivery log -------------------------------------------------------------------------------------------


def test_the_delivery_log_pages_and_filters(env: Env, receiver: Receiver) -> None:
    endpoint = env.webhook(receiver.url)
    for _ in range(5):
        env.emit()
        env.clock.advance(1)
    env.drain()
    receiver.default = Reply(500)
    env.emit()
    env.drain()
    path = f"/v1/webhooks/{endpoint['id']}/deliveries"
    seen: list[str] = []
    page = env.ok("GET", f"{path}?limit=2")
    while True:
        seen += [d["id"] for d in page["data"]]
        if not page["has_more"]:
            break
        page = env.ok("GET", f"{path}?limit=2&cursor={page['next_cursor']}")
    assert len(seen) == len(set(seen)) == 6
    assert seen == [r["id"] for r in reversed(env.delivery_rows(endpoint["id"]))]
    pending = env.ok("GET", f"{path}?status=pending")["data"]
    assert len(pending) == 1 and pending[0]["log"][0]["error"] == "http_500"
    assert pending[0]["next_attempt_at"] is not None
    for bad in ("limit=0", "limit=101", "limit=x", "status=nope", "cursor=garbage"):
        assert env.call("GET", f"{path}?{bad}").status_code == 400, bad


def test_rotation_overlap_constant_is_24_hours() -> None:
    from postdodo_connect.api.webhooks import ROTATION_OVERLAP

    assert ROTATION_OVERLAP == timedelta(hours=24)
