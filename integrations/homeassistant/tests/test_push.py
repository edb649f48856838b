"""Webhook deliveries: verified, de-duplicated, fired on the bus, shown by the event entities and sensors."""

from __future__ import annotations

import json
import time
from http import HTTPStatus
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.postdodo._postdodo_client.signing import delivery_headers, generate_secret
from custom_components.postdodo.const import CONF_ENDPOINT_SECRET, SEEN_EVENTS
from custom_components.postdodo.coordinator import PostSequences

from .conftest import WEBHOOK_ID
from .fake_api import ACCOUNTS, FakePostDodo

INSTAGRAM = ACCOUNTS[0]["id"]
BLUESKY = ACCOUNTS[1]["id"]
LAST_POST = "sensor.dodo_bakery_instagram_last_post"
EVENTS = "event.dodo_bakery_instagram_post_events"
BSKY_EVENTS = "event.dodo_bsky_social_bluesky_post_events"
PERMALINK = "https://www.instagram.com/p/C0dod0/"
PUBLISHED = {"post_id": "post_KtMy2FRPdfd7VPEg", "account_id": INSTAGRAM, "platform": "instagram",
             "status": "confirmed", "permalink": PERMALINK}
URL = f"/api/webhook/{WEBHOOK_ID}"


async def _post(hass_client_no_auth: ClientSessionGenerator, body: bytes, headers: dict[str, str]) -> int:
    client = await hass_client_no_auth()
    response = await client.post(URL, data=body, headers=headers)
    return response.status


async def test_published_fires_event_and_updates_entities(
    hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """A signed post.published: one bus event with the event id, the event entity fires, the sensor moves."""
    events = async_capture_events(hass, "postdodo_post_published")
    body, headers = api.delivery("post.published", PUBLISHED, event_id="evt_one")
    assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.OK
    await hass.async_block_till_done()

    assert len(events) == 1
    assert events[0].data == {**PUBLISHED, "event_id": "evt_one", "config_entry_id": loaded.entry_id}

    state = hass.states.get(EVENTS)
    assert state.attributes["event_type"] == "published"
    assert state.attributes["permalink"] == PERMALINK
    assert state.attributes["event_id"] == "evt_one"
    assert hass.states.get(BSKY_EVENTS).attributes["event_type"] is None  # another account's entity

    sensor = hass.states.get(LAST_POST)
    assert sensor.state == "confirmed"
    assert sensor.attributes["permalink"] == PERMALINK
    assert sensor.attributes["post_id"] == PUBLISHED["post_id"]
    assert sensor.attributes["handle"] == "dodo_bakery"


async def test_duplicate_fires_once(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                                    hass_client_no_auth: ClientSessionGenerator) -> None:
    """A redelivery (same event id, new attempt timestamp and signature) is acknowledged and not fired again."""
    events = async_capture_events(hass, "postdodo_post_published")
    body, headers = api.delivery("post.published", PUBLISHED, event_id="evt_dup")
    assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.OK
    again = delivery_headers([api.endpoint["secret"]], "evt_dup", int(time.time()) + 5, body)
    assert await _post(hass_client_no_auth, body, again) == HTTPStatus.OK
    await hass.async_block_till_done()
    assert len(events) == 1


async def test_seen_ids_are_bounded(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """The memory of seen event ids stays bounded: the oldest is forgotten first."""
    push = loaded.runtime_data.push

    class Request:
        remote = "127.0.0.1"

        def __init__(self, body: bytes, headers: dict[str, str]) -> None:
            self.body, self.headers = body, headers

        async def read(self) -> bytes:
            return self.body

    for n in range(SEEN_EVENTS + 1):
        body, headers = api.delivery("post.scheduled", {"post_id": "p"}, event_id=f"evt_{n}")
        assert (await push.handle(hass, WEBHOOK_ID, Request(body, headers))).status == HTTPStatus.OK
    assert len(push._seen) == SEEN_EVENTS
    assert "evt_0" not in push._seen and f"evt_{SEEN_EVENTS}" in push._seen


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers, secret: (body + b" ", headers),
        lambda body, headers, secret: (body, {**headers, "X-PostDodo-Signature": "v1,AAAA"}),
        lambda body, headers, secret: (body, {"Content-Type": "application/json"}),
        lambda body, headers, secret: (body, delivery_headers([generate_secret()], "evt_x", int(time.time()), body)),
        lambda body, headers, secret: (body, delivery_headers([secret], "evt_x", int(time.time()) - 3600, body)),
    ],
    ids=["body_changed", "bad_signature", "unsigned", "other_secret", "stale"],
)
async def test_bad_signature_refused(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                                     hass_client_no_auth: ClientSessionGenerator, tamper: Any) -> None:
    """Anything not signed by our endpoint's secret, or too old, answers 401 and fires nothing."""
    events = async_capture_events(hass, "postdodo_post_published")
    body, headers = api.delivery("post.published", PUBLISHED, event_id="evt_x")
    body, headers = tamper(body, headers, api.endpoint["secret"])
    assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.UNAUTHORIZED
    await hass.async_block_till_done()
    assert events == []
    assert hass.states.get(LAST_POST).state == "unknown"
    assert hass.states.get(EVENTS).attributes["event_type"] is None


async def test_without_secret_everything_is_refused(hass: HomeAssistant, loaded: MockConfigEntry,
                                                    api: FakePostDodo,
                                                    hass_client_no_auth: ClientSessionGenerator) -> None:
    """No stored secret (push never registered): nothing can be verified, so nothing is accepted."""
    body, headers = api.delivery("post.published", PUBLISHED)
    hass.config_entries.async_update_entry(loaded, data={k: v for k, v in loaded.data.items()
                                                         if k != CONF_ENDPOINT_SECRET})
    assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("body", [b"not json", b'{"event": "post.published"}', b'{"event": 1, "data": {}}', b"[]"])
async def test_malformed_envelope(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                                  hass_client_no_auth: ClientSessionGenerator, body: bytes) -> None:
    """A correctly signed body that is not an event envelope answers 400."""
    headers = delivery_headers([api.endpoint["secret"]], "evt_bad", int(time.time()), body)
    assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.BAD_REQUEST


async def test_failed_event(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                            hass_client_no_auth: ClientSessionGenerator) -> None:
    """post.failed carries the error to the bus, the event entity and the sensor."""
    events = async_capture_events(hass, "postdodo_post_failed")
    data = {"post_id": "post_f", "account_id": INSTAGRAM, "platform": "instagram", "status": "failed",
            "error": {"code": "media_required", "message": "Instagram needs at least one image", "retryable": False}}
    body, headers = api.delivery("post.failed", data)
    assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.OK
    await hass.async_block_till_done()
    assert events[0].data["error"]["code"] == "media_required"
    state = hass.states.get(EVENTS)
    assert state.attributes["event_type"] == "failed"
    assert state.attributes["error"] == "Instagram needs at least one image"
    assert state.attributes["error_code"] == "media_required"
    sensor = hass.states.get(LAST_POST)
    assert sensor.state == "failed"
    assert sensor.attributes["error"] == "Instagram needs at least one image"


async def test_completed_event(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                               hass_client_no_auth: ClientSessionGenerator) -> None:
    """post.completed fires once on the bus and on the event entity of each of its accounts."""
    events = async_capture_events(hass, "postdodo_post_completed")
    data = {"post_id": "post_c", "status": "partially_published", "targets": [
        {"account_id": INSTAGRAM, "platform": "instagram", "status": "confirmed", "permalink": PERMALINK},
        {"account_id": BLUESKY, "platform": "bluesky", "status": "failed", "permalink": None}]}
    body, headers = api.delivery("post.completed", data)
    assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.OK
    await hass.async_block_till_done()
    assert len(events) == 1 and events[0].data["status"] == "partially_published"
    insta = hass.states.get(EVENTS)
    assert insta.attributes["event_type"] == "completed"
    assert insta.attributes["post_status"] == "partially_published"
    assert insta.attributes["status"] == "confirmed" and insta.attributes["permalink"] == PERMALINK
    assert hass.states.get(BSKY_EVENTS).attributes["status"] == "failed"
    assert hass.states.get("event.dodo_mastodon_post_events").attributes["event_type"] is None
    assert hass.states.get("sensor.dodo_bsky_social_bluesky_last_post").state == "failed"
    assert hass.states.get(LAST_POST).state == "confirmed"


async def test_completed_after_failed_keeps_error(hass: HomeAssistant, loaded: MockConfigEntry,
                                                  api: FakePostDodo) -> None:
    """post.completed repeats a failed target without its error; the sensor keeps the reason."""
    push, coordinator = loaded.runtime_data.push, loaded.runtime_data.coordinator
    push.dispatch("post.failed", {"post_id": "post_e", "account_id": INSTAGRAM, "platform": "instagram",
                                  "status": "failed", "error": {"message": "rejected"}}, "evt_1")
    push.dispatch("post.completed", {"post_id": "post_e", "status": "failed", "targets": [
        {"account_id": INSTAGRAM, "platform": "instagram", "status": "failed", "permalink": None},
        "junk", {"account_id": None}]}, "evt_2")
    push.dispatch("post.published", {"account_id": INSTAGRAM}, "evt_3")  # no post id: ignored
    await hass.async_block_till_done()
    last = coordinator.data.last_posts[INSTAGRAM]
    assert (last.post_id, last.status, last.error) == ("post_e", "failed", "rejected")


async def test_other_events_acknowledged(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                                         hass_client_no_auth: ClientSessionGenerator) -> None:
    """An event type we did not subscribe to (webhook.test) is acknowledged and ignored."""
    body, headers = api.delivery("webhook.test", {"message": "hello"})
    assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.OK


async def test_push_survives_poll(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo,
                                  hass_client_no_auth: ClientSessionGenerator) -> None:
    """A poll that started before a push does not roll the sensor back; later polls show the API's view."""
    coordinator = loaded.runtime_data.coordinator
    api.add_post([INSTAGRAM], status="scheduled", target_status="scheduled")
    accounts = coordinator.client.accounts
    list_accounts = accounts.list

    async def list_then_push() -> Any:
        found = await list_accounts()
        # the push lands while this poll is in flight, before it reads the posts
        loaded.runtime_data.push.dispatch("post.published", PUBLISHED, "evt_race")
        return found

    with patch.object(accounts, "list", list_then_push):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(LAST_POST).state == "confirmed"
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(LAST_POST).state == "scheduled"


async def test_poll_picks_latest_post(hass: HomeAssistant, api: FakePostDodo, entry: MockConfigEntry) -> None:
    """Without pushes, each account shows its target in the most recently changed post."""
    old = api.add_post([INSTAGRAM, BLUESKY], status="published", target_status="confirmed", permalink=PERMALINK,
                       created_at="2030-01-05T09:00:00Z")
    new = api.add_post([BLUESKY], created_at="2030-01-06T09:00:00Z")
    new["targets"][0]["error"] = {"code": "x", "message": "retrying soon", "retryable": True}
    new["targets"][0]["status"] = "retrying"
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    insta = hass.states.get(LAST_POST)
    assert insta.state == "confirmed" and insta.attributes["post_id"] == old["id"]
    bsky = hass.states.get("sensor.dodo_bsky_social_bluesky_last_post")
    assert bsky.state == "retrying" and bsky.attributes["error"] == "retrying soon"
    assert json.dumps(dict(bsky.attributes))  # attributes stay JSON-friendly


async def test_a_late_older_event_does_not_roll_entities_back(
    hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """post.completed (sequence 3) overtakes the post.published (sequence 2) it sums up: the event entity stays
    on completed and the sensor keeps the completed state, while the bus still gets both events."""
    published = async_capture_events(hass, "postdodo_post_published")
    completed = async_capture_events(hass, "postdodo_post_completed")
    post_id = "post_Order0000000001"
    done = {"post_id": post_id, "status": "partially_published", "sequence": 3,
            "targets": [{"account_id": INSTAGRAM, "platform": "instagram", "status": "confirmed",
                         "permalink": PERMALINK},
                        {"account_id": BLUESKY, "platform": "bluesky", "status": "failed", "permalink": None}]}
    late = {**PUBLISHED, "post_id": post_id, "sequence": 2}
    for event, data in (("post.completed", done), ("post.published", late)):
        body, headers = api.delivery(event, data)
        assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.OK
    await hass.async_block_till_done()

    assert len(completed) == 1 and len(published) == 1  # automations see every event, each with its sequence
    assert (completed[0].data["sequence"], published[0].data["sequence"]) == (3, 2)
    state = hass.states.get(EVENTS)
    assert state.attributes["event_type"] == "completed" and state.attributes["sequence"] == 3
    assert state.attributes["post_status"] == "partially_published"
    assert hass.states.get(LAST_POST).state == "confirmed"
    assert hass.states.get("sensor.dodo_bsky_social_bluesky_last_post").state == "failed"

    # a newer event of the same post still applies; so does the first event of another post
    newer = {**PUBLISHED, "post_id": post_id, "sequence": 4, "permalink": PERMALINK + "v2"}
    body, headers = api.delivery("post.published", newer)
    assert await _post(hass_client_no_auth, body, headers) == HTTPStatus.OK
    await hass.async_block_till_done()
    assert hass.states.get(EVENTS).attributes["sequence"] == 4
    assert hass.states.get(LAST_POST).attributes["permalink"] == PERMALINK + "v2"


async def test_the_sensor_ignores_an_older_failure_of_the_same_post(
    hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo
) -> None:
    """Per account: once sequence 5 of a post applied, a sequence 4 of that post changes nothing."""
    push = loaded.runtime_data.push
    push.dispatch("post.published", {**PUBLISHED, "sequence": 5}, "evt_new")
    push.dispatch("post.failed", {**PUBLISHED, "status": "failed", "sequence": 4,
                                  "error": {"code": "x", "message": "stale"}}, "evt_old")
    await hass.async_block_till_done()
    sensor = hass.states.get(LAST_POST)
    assert sensor.state == "confirmed" and sensor.attributes["error"] is None


async def test_an_api_answer_does_not_override_a_webhook_of_the_same_post(
    hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo
) -> None:
    """create_post's answer (publishing) can arrive after the post.published webhook: the webhook wins."""
    post = api.add_post([INSTAGRAM], status="publishing", target_status="publishing")
    loaded.runtime_data.push.dispatch("post.published", {**PUBLISHED, "post_id": post["id"], "sequence": 1}, "evt_x")
    from custom_components.postdodo._postdodo_client import Post

    loaded.runtime_data.coordinator.async_apply_post(Post.model_validate(post))
    await hass.async_block_till_done()
    assert hass.states.get(LAST_POST).state == "confirmed"


def test_post_sequences_are_bounded_and_per_post() -> None:
    """The memory of applied sequences keeps the newest posts; events without a sequence always apply."""
    seen = PostSequences(size=2)
    assert seen.is_newer("post_a", 2) and not seen.is_newer("post_a", 1) and not seen.is_newer("post_a", 2)
    assert seen.is_newer("post_b", 1) and seen.is_newer("post_a", None)
    assert seen.is_newer("post_c", 1)  # post_a is the oldest and is forgotten
    assert seen.is_newer("post_a", 1) and not seen.is_newer("post_c", 1)
