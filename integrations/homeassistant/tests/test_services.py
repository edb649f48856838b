"""The postdodo.* actions against the fake API: inputs, responses, and every error translated."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientConnectionError
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.postdodo.const import DOMAIN

from .fake_api import ACCOUNTS, BASE, KEY, FakePostDodo

INSTAGRAM, BLUESKY, MASTODON = (a["id"] for a in ACCOUNTS)


async def _call(hass: HomeAssistant, service: str, data: dict[str, Any], response: bool = True) -> Any:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, return_response=response)


async def test_services_registered_once(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    """The actions exist from integration setup, independent of entries."""
    assert set(hass.services.async_services_for_domain(DOMAIN)) == {
        "create_post", "cancel_post", "get_post", "list_accounts"}


async def test_create_post_by_names(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """Accounts by id, handle (with @, any case) and platform:handle; the post comes back as the response."""
    result = await _call(hass, "create_post", {
        "config_entry_id": loaded.entry_id, "caption": "Fresh bread!",
        "account_ids": [INSTAGRAM, "@Dodo.bsky.social", "mastodon:dodo_bakery", INSTAGRAM],
        "media": ["https://example.com/bread.jpg", "https://example.com/clip.mp4"],
        "idempotency_key": "front-door-1"})
    body = api.created_bodies[-1]
    assert body["account_ids"] == [INSTAGRAM, BLUESKY, MASTODON]
    assert body["media"] == [{"type": "image", "url": "https://example.com/bread.jpg"},
                             {"type": "video", "url": "https://example.com/clip.mp4"}]
    assert "scheduled_at" not in body
    assert result["id"].startswith("post_") and result["status"] == "publishing"
    assert {t["account_id"] for t in result["targets"]} == {INSTAGRAM, BLUESKY, MASTODON}
    # the sensors show the new post at once, before any webhook or poll
    assert hass.states.get("sensor.dodo_bakery_instagram_last_post").state == "publishing"
    assert hass.states.get("sensor.dodo_bakery_instagram_last_post").attributes["post_id"] == result["id"]


async def test_create_post_with_alt_texts_captions_comment_and_thread(hass: HomeAssistant, loaded: MockConfigEntry,
                                                                       api: FakePostDodo) -> None:
    """Alt texts pair with media in order, captions per platform, first comment and thread reach the API body."""
    await _call(hass, "create_post", {
        "caption": "Fresh bread!", "account_ids": [BLUESKY, MASTODON],
        "media": ["https://example.com/bread.jpg", "https://example.com/clip.mp4", "https://example.com/b.png"],
        "media_alt": ["", "Kneading, with sound", ""],
        "platform_captions": {"Bluesky": "Bread, now!", "mastodon": " ", "x": None},
        "first_comment": " Open until 6 ", "thread": "Also: rolls, seeded\n\nAnd cake"}, response=False)
    assert api.created_bodies[-1] == {
        "caption": "Fresh bread!", "account_ids": [BLUESKY, MASTODON],
        "media": [{"type": "image", "url": "https://example.com/bread.jpg"},
                  {"type": "video", "url": "https://example.com/clip.mp4", "alt": "Kneading, with sound"},
                  {"type": "image", "url": "https://example.com/b.png"}],
        "platforms": {"bluesky": {"caption": "Bread, now!"}}, "first_comment": "Open until 6",
        "thread": [{"caption": "Also: rolls, seeded"}, {"caption": "And cake"}]}
    # from YAML: one alt text as a string, thread items as a list (each kept whole)
    await _call(hass, "create_post", {"caption": "x", "account_ids": [BLUESKY], "media": "https://example.com/a.jpg",
                                      "media_alt": "A loaf, still warm", "thread": ["one, two\nthree"]})
    body = api.created_bodies[-1]
    assert body["media"] == [{"type": "image", "url": "https://example.com/a.jpg", "alt": "A loaf, still warm"}]
    assert body["thread"] == [{"caption": "one, two\nthree"}] and "platforms" not in body and "first_comment" not in body


async def test_more_alt_texts_than_media_never_reach_postdodo(hass: HomeAssistant, loaded: MockConfigEntry,
                                                              api: FakePostDodo) -> None:
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "create_post", {"caption": "x", "account_ids": [BLUESKY], "media_alt": ["a dog"]})
    assert info.value.translation_key == "too_many_alt_texts"
    assert info.value.translation_placeholders == {"alts": "1", "media": "0"}
    assert api.created_bodies == []


async def test_create_post_without_response_and_entry(hass: HomeAssistant, loaded: MockConfigEntry,
                                                      api: FakePostDodo) -> None:
    """With one entry the config_entry_id may be left out; a comma list of accounts works in YAML."""
    assert await _call(hass, "create_post", {"caption": "hi", "account_ids": "dodo.bsky.social, instagram:dodo_bakery"},
                       response=False) is None
    assert api.created_bodies[-1]["account_ids"] == [BLUESKY, INSTAGRAM]


async def test_create_post_naive_time_uses_ha_timezone(hass: HomeAssistant, loaded: MockConfigEntry,
                                                       api: FakePostDodo) -> None:
    """A datetime without offset (the UI's selector) is read in Home Assistant's time zone."""
    await hass.config.async_set_time_zone("Europe/Paris")
    when = (dt_util.now() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    await _call(hass, "create_post", {"caption": "Opening soon", "account_ids": ["dodo.bsky.social"],
                                      "scheduled_at": when.replace(tzinfo=None).isoformat(sep=" ")})
    sent = datetime.fromisoformat(api.created_bodies[-1]["scheduled_at"].replace("Z", "+00:00"))
    assert sent == when
    assert api.created_bodies[-1]["scheduled_at"].endswith("Z")
    assert sent.astimezone(dt_util.get_default_time_zone()).hour == 9


async def test_create_post_aware_time(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """A time with an offset is kept as given."""
    await _call(hass, "create_post", {"caption": "x", "account_ids": [BLUESKY],
                                      "scheduled_at": "2099-04-01T09:00:00+02:00"})
    assert api.created_bodies[-1]["scheduled_at"] == "2099-04-01T07:00:00Z"


async def test_create_post_in_the_past(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """A publish time in the past is the user's mistake, caught before calling PostDodo."""
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "create_post", {"caption": "x", "account_ids": [BLUESKY],
                                          "scheduled_at": "2001-01-01T00:00:00Z"})
    assert info.value.translation_key == "scheduled_in_past"
    assert api.created_bodies == []


async def test_unknown_and_ambiguous_accounts(hass: HomeAssistant, loaded: MockConfigEntry,
                                              api: FakePostDodo) -> None:
    """A name matching nothing or several accounts is refused with the choices."""
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "create_post", {"caption": "x", "account_ids": ["nobody"]})
    assert info.value.translation_key == "unknown_account"
    assert "bluesky:dodo.bsky.social" in info.value.translation_placeholders["known"]
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "create_post", {"caption": "x", "account_ids": ["dodo_bakery"]})
    assert info.value.translation_key == "ambiguous_account"
    assert info.value.translation_placeholders["choices"] == "instagram:dodo_bakery, mastodon:dodo_bakery"
    assert str(info.value) == ('"dodo_bakery" matches several accounts (instagram:dodo_bakery, '
                               'mastodon:dodo_bakery); write it as platform:handle')


async def test_account_connected_since_last_poll(hass: HomeAssistant, loaded: MockConfigEntry,
                                                 api: FakePostDodo) -> None:
    """A name not in the cached list triggers one fresh account list."""
    api.accounts.append({**ACCOUNTS[1], "id": "acct_new0000000000005", "platform": "threads", "handle": "dodo_new"})
    await _call(hass, "create_post", {"caption": "x", "account_ids": ["threads:dodo_new"]})
    assert api.created_bodies[-1]["account_ids"] == ["acct_new0000000000005"]


async def test_invalid_post_details(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """PostDodo's 400 with details becomes a validation error listing each problem."""
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "create_post", {"caption": "", "account_ids": [BLUESKY]})
    assert info.value.translation_key == "invalid_request"
    # each problem once, with its platform; not the API's summary line repeating the first one
    assert info.value.translation_placeholders["message"] == (
        "bluesky: a caption is required; instagram: Instagram needs at least one image or video")
    assert str(info.value).count("a caption is required") == 1


def test_describe_without_details_or_with_repeats() -> None:
    """Without details the API's message is the text; repeated or bare details are listed once."""
    from custom_components.postdodo._postdodo_client import InvalidRequestError
    from custom_components.postdodo.services import _describe

    assert _describe(InvalidRequestError("caption: too long")) == "caption: too long"
    repeated = [{"platform": "x", "message": "too long"}, {"platform": "x", "message": "too long"},
                {"rule": "only.a.rule"}, {"field": "media"}]
    assert _describe(InvalidRequestError("post refused: too long", details=repeated)) == (
        "x: too long; only.a.rule; media")


async def test_get_and_cancel_post(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """get_post returns the post; cancel_post cancels it; a second cancel is a conflict."""
    post = api.add_post([INSTAGRAM])
    got = await _call(hass, "get_post", {"post_id": post["id"]})
    assert got["id"] == post["id"] and got["targets"][0]["status"] == "scheduled"
    canceled = await _call(hass, "cancel_post", {"config_entry_id": loaded.entry_id, "post_id": post["id"]})
    assert canceled["status"] == "canceled"
    assert hass.states.get("sensor.dodo_bakery_instagram_last_post").state == "canceled"
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "cancel_post", {"post_id": post["id"]})
    assert info.value.translation_key == "conflict"
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "get_post", {"post_id": "post_missing"})
    assert info.value.translation_key == "not_found"


async def test_get_post_needs_response(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    """get_post only makes sense with a response."""
    with pytest.raises(ServiceValidationError):
        await _call(hass, "get_post", {"post_id": "post_x"}, response=False)


async def test_list_accounts(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """list_accounts returns the workspace's accounts."""
    result = await _call(hass, "list_accounts", {})
    assert [a["id"] for a in result["accounts"]] == [INSTAGRAM, BLUESKY, MASTODON]
    assert result["accounts"][0]["handle"] == "dodo_bakery"


async def test_auth_error_starts_reauth(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """A rotated key during an action: a translated error and a reauth flow."""
    api.keys = set()
    with pytest.raises(HomeAssistantError) as info:
        await _call(hass, "get_post", {"post_id": "post_x"})
    assert info.value.translation_key == "invalid_auth"
    await hass.async_block_till_done()
    assert any(f["context"]["source"] == "reauth" for f in hass.config_entries.flow.async_progress())


@pytest.mark.parametrize(
    ("status", "body", "key"),
    [
        (500, {"error": {"code": "internal_error", "message": "boom"}}, "api_error"),
        (429, {"error": {"code": "rate_limited", "message": "slow down"}}, "rate_limited"),
        (None, ClientConnectionError("refused"), "cannot_connect"),
    ],
)
async def test_api_failures(hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker,
                            status: int | None, body: Any, key: str) -> None:
    """Server-side failures are HomeAssistantErrors with translation keys (not validation errors)."""
    aioclient_mock.clear_requests()
    if status is None:
        aioclient_mock.get(f"{BASE}/v1/posts/post_x", exc=body)
    else:
        aioclient_mock.get(f"{BASE}/v1/posts/post_x", status=status, json=body, headers={"Retry-After": "120"})
    loaded.runtime_data.client._transport.retry.max_retries = 0  # no backoff sleeps in this test
    with pytest.raises(HomeAssistantError) as info:
        await _call(hass, "get_post", {"post_id": "post_x"})
    assert not isinstance(info.value, ServiceValidationError)
    assert info.value.translation_key == key


async def test_entry_selection(hass: HomeAssistant, loaded: MockConfigEntry, api: FakePostDodo) -> None:
    """Two entries need an explicit choice; unknown and unloaded entries are refused."""
    other = MockConfigEntry(domain=DOMAIN, unique_id="acct_other", title="Other",
                            data={CONF_URL: BASE, CONF_API_KEY: KEY, CONF_WEBHOOK_ID: "other"})
    other.add_to_hass(hass)
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "list_accounts", {"config_entry_id": other.entry_id})
    assert info.value.translation_key == "config_entry_not_loaded"
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "list_accounts", {"config_entry_id": "nope"})
    assert info.value.translation_key == "config_entry_not_found"

    assert await hass.config_entries.async_setup(other.entry_id)
    assert other.state is ConfigEntryState.LOADED
    with pytest.raises(ServiceValidationError) as info:
        await _call(hass, "list_accounts", {})
    assert info.value.translation_key == "config_entry_required"
    assert await _call(hass, "list_accounts", {"config_entry_id": other.entry_id})


async def test_schema_rejects_bad_input(hass: HomeAssistant, loaded: MockConfigEntry) -> None:
    """Missing caption, no accounts, or a media entry that is not a URL never reach PostDodo."""
    import voluptuous as vol

    for data in ({"account_ids": [BLUESKY]}, {"caption": "x", "account_ids": []},
                 {"caption": "x", "account_ids": [BLUESKY], "media": ["not a url"]},
                 {"caption": "x", "account_ids": [BLUESKY], "platform_captions": "x: not a mapping"},
                 {"caption": "x", "account_ids": [BLUESKY], "platform_captions": {"x": ["a", "list"]}}):
        with pytest.raises(vol.Invalid):
            await _call(hass, "create_post", data)
