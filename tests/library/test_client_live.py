"""Every client method against a real `postdodo serve` subprocess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

import postdodo_connect
from postdodo_connect import (
    Account,
    AuthenticationError,
    Client,
    ConflictError,
    Delivery,
    InvalidRequestError,
    NotFoundError,
    Post,
    Redelivery,
    UnpublishPlan,
    Validation,
    WaitTimeout,
    WebhookEndpoint,
    WebhookTest,
)
from tests.library.conftest import Sink
from tests.support.server import Server

MEDIA = "https://picsum.photos/id/237/1080/1080"


def later(hours: float = 1) -> datetime:
    """An aware time in the future."""
    return datetime.now(UTC) + timedelta(hours=hours)


def test_accounts_list(client: Client) -> None:
    accounts = client.accounts.list()
    assert all(isinstance(a, Account) for a in accounts)
    assert {a.platform for a in accounts} == {"instagram", "bluesky", "mastodon", "x"}
    assert all(a.mode == "sandbox" and a.status == "active" and a.id.startswith("acct_") for a in accounts)


def test_accounts_create_and_delete(client: Client) -> None:
    before = {a.id for a in client.accounts.list()}
    made = client.accounts.create("threads", handle="from_client", sandbox={"latency_ms": 1})
    assert (made.platform, made.handle, made.mode, made.status) == ("threads", "from_client", "sandbox", "active")
    assert made.id in {a.id for a in client.accounts.list()}
    assert client.accounts.delete(made.id).status == "disconnected"
    assert {a.id for a in client.accounts.list()} == before
    with pytest.raises(InvalidRequestError) as refused:
        client.accounts.create("myspace")
    assert refused.value.param == "platform"


def test_create_now_and_wait_until_final(client: Client, accounts: dict[str, str]) -> None:
    post = client.posts.create("hello from the client", list(accounts.values()), media=[MEDIA])
    assert isinstance(post, Post) and post.status == "publishing" and len(post.targets) == 4
    done = client.posts.wait(post.id, until="final", timeout=30, interval=0.1)
    assert done.status == "published"
    assert all(t.status == "confirmed" and t.permalink and t.permalink.startswith("https://") for t in done.targets)


def test_wait_until_published_returns_at_the_first_confirmation(client: Client, accounts: dict[str, str]) -> None:
    post = client.posts.create("first one live", [accounts["bluesky"], accounts["mastodon"]])
    seen = client.posts.wait(post.id, until="published", timeout=30, interval=0.05)
    assert any(t.status == "confirmed" for t in seen.targets)


def test_create_scheduled_get_and_cancel(client: Client, accounts: dict[str, str]) -> None:
    when = later(2).replace(microsecond=0)
    post = client.posts.create("see you later", [accounts["x"]], scheduled_at=when)
    assert post.status == "scheduled" and post.scheduled_at == when
    assert client.posts.get(post.id).id == post.id
    canceled = client.posts.cancel(post.id)
    assert canceled.status == "canceled" and canceled.targets[0].status == "canceled"
    with pytest.raises(ConflictError) as info:
        client.posts.cancel(post.id)
    assert info.value.status == 409 and info.value.request_id


def test_versions_options_alt_and_update(client: Client, accounts: dict[str, str]) -> None:
    post = client.posts.create("base", [accounts["mastodon"], accounts["x"]], scheduled_at=later(2),
                               media=[{"url": MEDIA, "alt": "A black dog"}],
                               platforms={"mastodon": {"caption": "for the fediverse",
                                                       "options": {"visibility": "unlisted"}}})
    contents = {t.platform: t.content for t in post.targets}
    assert contents["mastodon"] and contents["mastodon"].caption == "for the fediverse"
    assert contents["mastodon"].options["visibility"] == "unlisted"
    assert contents["x"] and contents["x"].caption == "base" and contents["x"].media[0].alt == "A black dog"
    edited = client.posts.update(post.id, caption="edited", platforms={"x": {"options": {"reply_settings": "following"}}})
    assert {t.platform: t.content.caption for t in edited.targets if t.content} == {"mastodon": "edited", "x": "edited"}
    with pytest.raises(InvalidRequestError) as refused:
        client.posts.update(post.id, platforms={"x": {"options": {"reply": "nobody"}}})
    assert refused.value.details and refused.value.details[0]["rule"] == "x.options.unknown"
    client.posts.cancel(post.id)
    with pytest.raises(ConflictError):
        client.posts.update(post.id, caption="too late")


def test_scheduled_at_as_iso_text_with_offset(client: Client, accounts: dict[str, str]) -> None:
    text = (datetime.now(UTC) + timedelta(days=1)).astimezone(timezone(timedelta(hours=2))).replace(
        microsecond=0).isoformat()
    post = client.posts.create("offset", [accounts["x"]], scheduled_at=text)
    assert post.scheduled_at == datetime.fromisoformat(text)
    client.posts.cancel(post.id)


def test_naive_times_are_refused_before_any_request(client: Client, accounts: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="timezone"):
        client.posts.create("naive", [accounts["x"]], scheduled_at=datetime(2030, 1, 1, 9, 0))
    with pytest.raises(ValueError, match="timezone"):
        client.posts.create("naive", [accounts["x"]], scheduled_at="2030-01-01T09:00:00")
    with pytest.raises(ValueError, match="ISO 8601"):
        client.posts.validate("bad", [accounts["x"]], scheduled_at="next tuesday")


def test_idempotency_key_replays_the_first_post(client: Client, accounts: dict[str, str]) -> None:
    first = client.posts.create("once", [accounts["x"]], scheduled_at=later(), idempotency_key="lib-test-once")
    assert client.last_response is not None and not client.last_response.replayed
    second = client.posts.create("once", [accounts["x"]], scheduled_at=first.scheduled_at,
                                 idempotency_key="lib-test-once")
    assert second.id == first.id
    assert client.last_response is not None and client.last_response.replayed
    with pytest.raises(ConflictError) as info:
        client.posts.create("other body", [accounts["x"]], idempotency_key="lib-test-once")
    assert info.value.code == "idempotency_conflict"


def test_invalid_post_raises_with_details(client: Client, accounts: dict[str, str]) -> None:
    with pytest.raises(InvalidRequestError) as info:
        client.posts.create("no picture", [accounts["instagram"], "acct_nope"])
    error = info.value
    assert error.status == 400 and error.code == "invalid_request"
    assert error.request_id and error.request_id.startswith("req_")
    rules = {d["rule"] for d in error.details}
    assert {"post.account_ids.unknown", "instagram.media.required"} <= rules


def test_validate(client: Client, accounts: dict[str, str]) -> None:
    bad = client.posts.validate("no picture", [accounts["instagram"]])
    assert isinstance(bad, Validation) and not bad.valid
    assert bad.details[0]["platform"] == "instagram"
    good = client.posts.validate("a picture", [accounts["instagram"]], media=[{"type": "image", "url": MEDIA}])
    assert good.valid and good.details == []


def test_list_follows_cursors_and_filters(client: Client, accounts: dict[str, str]) -> None:
    made = [client.posts.create(f"page {i}", [accounts["mastodon"]], scheduled_at=later(3)).id for i in range(5)]
    newest = list(client.posts.list(status="scheduled", account_id=accounts["mastodon"], page_size=2))
    assert [p.id for p in newest[:5]] == made[::-1]  # newest first, across three pages of two
    assert len(list(client.posts.list(limit=3))) == 3
    assert all(p.status == "scheduled" for p in newest)
    for post_id in made:
        client.posts.cancel(post_id)
    assert not {p.id for p in client.posts.list(status="scheduled")} & set(made)


def test_wait_times_out_with_the_last_state(client: Client, accounts: dict[str, str]) -> None:
    post = client.posts.create("not yet", [accounts["x"]], scheduled_at=later())
    with pytest.raises(WaitTimeout) as info:
        client.posts.wait(post.id, timeout=0.3, interval=0.1)
    assert info.value.post.status == "scheduled" and isinstance(info.value, TimeoutError)
    client.posts.cancel(post.id)


def test_not_found_and_bad_key(client: Client, live_server: Server) -> None:
    with pytest.raises(NotFoundError) as info:
        client.posts.get("post_doesnotexist")
    assert info.value.code == "not_found" and info.value.param == "id"
    with pytest.raises(AuthenticationError):
        Client("pd_test_wrong", base_url=live_server.url).accounts.list()


def test_webhooks_full_cycle(client: Client, sink: Sink) -> None:
    endpoint = client.webhooks.create(sink.url, events=["post.published"], description="lib test")
    assert isinstance(endpoint, WebhookEndpoint) and endpoint.secret and endpoint.secret.startswith("whsec_")
    assert endpoint.id in {w.id for w in client.webhooks.list()}
    assert client.webhooks.get(endpoint.id).secret is None  # shown once only

    sent = client.webhooks.test(endpoint.id)
    assert isinstance(sent, WebhookTest) and sent.event.event == "webhook.test"
    headers, event, body = sink.next_event("webhook.test")
    verified = postdodo_connect.verify(endpoint.secret, headers, body)
    assert verified.event_id == sent.event.id == event["id"]

    deliveries = client.webhooks.deliveries(endpoint.id)
    assert all(isinstance(d, Delivery) for d in deliveries)
    assert sent.delivery_id in {d.id for d in deliveries}

    again = client.events.redeliver(sent.event.id)
    assert isinstance(again, Redelivery) and again.event_id == sent.event.id and len(again.deliveries) == 1
    headers, _, body = sink.next_event("webhook.test")  # the same event, delivered again
    assert postdodo_connect.verify(endpoint.secret, headers, body).event_id == sent.event.id
    only = client.events.redeliver(sent.event.id, endpoint_id=endpoint.id)
    assert len(only.deliveries) == 1
    headers, _, body = sink.next_event("webhook.test")
    assert postdodo_connect.verify(endpoint.secret, headers, body).event_id == sent.event.id
    assert client.webhooks.enable(endpoint.id).status == "enabled"
    assert len(client.webhooks.deliveries(endpoint.id, limit=2)) == 2  # capped, newest first
    assert all(d.status == "delivered" for d in client.webhooks.deliveries(endpoint.id, status="delivered"))

    rotated = client.webhooks.rotate(endpoint.id, expire_now=True)
    assert rotated.secret and rotated.secret != endpoint.secret
    client.webhooks.test(endpoint.id)
    headers, _, body = sink.next_event("webhook.test")
    postdodo_connect.verify(rotated.secret, headers, body)

    removed = client.webhooks.delete(endpoint.id)
    assert removed.status == "disabled"
    assert endpoint.id not in {w.id for w in client.webhooks.list()}
    with pytest.raises(NotFoundError):
        client.events.redeliver("evt_doesnotexist")


def test_env_configuration(monkeypatch: pytest.MonkeyPatch, live_server: Server) -> None:
    monkeypatch.setenv("POSTDODO_API_KEY", live_server.key or "")
    monkeypatch.setenv("POSTDODO_BASE_URL", live_server.url + "/v1/")
    env_client = Client()
    assert env_client.base_url == live_server.url
    assert len(env_client.accounts.list()) == 4


def test_unpublish_deletes_where_the_platform_can(client: Client, accounts: dict[str, str]) -> None:
    post = client.posts.create("here for a moment", [accounts["x"], accounts["instagram"]], media=[MEDIA])
    client.posts.wait(post.id, until="final", timeout=30, interval=0.1)
    plan = client.posts.unpublish(post.id)
    assert isinstance(plan, UnpublishPlan) and plan.post.id == post.id
    assert {s.platform: s.action for s in plan.targets} == {"x": "unpublishing", "instagram": "unsupported"}
    done = client.posts.wait(post.id, until="final", timeout=30, interval=0.1)
    assert done.status == "partially_published"
    assert {t.platform: t.status for t in done.targets} == {"x": "unpublished", "instagram": "confirmed"}
    with pytest.raises(NotFoundError):
        client.posts.unpublish("post_nope")
