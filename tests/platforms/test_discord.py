"""Discord webhook adapter: wait=true execution, guild lookup for links, rate-limit floats, dead webhooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import (
    OutcomeUnknown,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
)
from postdodo_connect.platforms import Media, PublishRequest
from postdodo_connect.platforms.base import Platform

from .conftest import IMAGE_URL, make_account

HOOK = "https://discord.com/api/webhooks/223704706495545344/3d89bb7572e0fb30d8128367b3b1b44fecd1726de135cbe28a41f8b2f777c372ba2939e72279b94526ff5d1bd4358d65cf11"
ACCOUNT = make_account("discord", "Publisher", webhook_url=HOOK)
GUILD, CHANNEL, MESSAGE = "199737254929760256", "290926798999357250", "1276530019999990000"
WEBHOOK = {"id": "223704706495545344", "type": 1, "guild_id": GUILD, "channel_id": CHANNEL, "name": "Publisher", "avatar": None,
           "application_id": None, "token": "3d89bb75"}
TEXT = PublishRequest(target_id="tgt_1", caption="Launch day! https://example.com/blog")


def sent_message(content: str, embeds: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": MESSAGE, "type": 0, "content": content, "channel_id": CHANNEL, "webhook_id": "223704706495545344",
            "author": {"id": "223704706495545344", "username": "Publisher", "avatar": None, "discriminator": "0000", "bot": True},
            "attachments": [], "embeds": embeds or [], "mentions": [], "mention_roles": [], "pinned": False,
            "mention_everyone": False, "tts": False, "timestamp": "2026-08-21T21:59:59.123000+00:00",
            "edited_timestamp": None, "flags": 0, "components": []}


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("discord")


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "ok"), [("a" * 2000, True), ("a" * 2001, False), ("日" * 2000, True), ("😀" * 2001, False)])
def test_content_limit_at_the_boundary(adapter: Platform, caption: str, ok: bool) -> None:
    assert [p.rule for p in adapter.validate(caption, [])] == ([] if ok else ["discord.caption.max_length"])


def test_images_only_up_to_ten_embeds(adapter: Platform) -> None:
    image = Media(type="image", url=IMAGE_URL)
    assert adapter.validate("", [image] * 10) == []
    assert [p.rule for p in adapter.validate("", [image] * 11)] == ["discord.media.max_count"]
    assert [p.rule for p in adapter.validate("", [Media(type="video", url="https://cdn.example.com/v.mp4")])] == ["discord.media.kind"]


def test_permalink_shape(adapter: Platform) -> None:
    post_id = adapter.sample_post_id("seed")
    assert post_id.isdigit() and len(post_id) == 19
    parts = adapter.permalink("Publisher", post_id).split("/")
    assert parts[:4] == ["https:", "", "discord.com", "channels"] and parts[6] == post_id


# -- publish -----------------------------------------------------------------------------------


def test_text_post_waits_for_the_message_and_links_it(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(HOOK, json=WEBHOOK)
    mocked.post(HOOK, match=[
        matchers.query_param_matcher({"wait": "true"}),
        matchers.json_params_matcher({"content": TEXT.caption, "allowed_mentions": {"parse": []}}),
    ], json=sent_message(TEXT.caption))
    published = adapter.publish(ACCOUNT, TEXT)
    assert published.platform_post_id == MESSAGE
    assert published.permalink == f"https://discord.com/channels/{GUILD}/{CHANNEL}/{MESSAGE}"


def test_images_go_in_embeds(adapter: Platform, mocked: responses.RequestsMock) -> None:
    embeds = [{"image": {"url": IMAGE_URL}}]
    mocked.get(HOOK, json=WEBHOOK)
    mocked.post(HOOK, match=[matchers.json_params_matcher({"content": "Look", "allowed_mentions": {"parse": []}, "embeds": embeds})],
                json=sent_message("Look", [{"type": "image", "image": {"url": IMAGE_URL, "proxy_url": "https://media.discordapp.net/x", "width": 90, "height": 60}}]))
    assert adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="Look", media=[Media(type="image", url=IMAGE_URL)])).platform_post_id == MESSAGE


def test_foreign_webhook_url_is_refused_without_a_request(adapter: Platform, mocked: responses.RequestsMock) -> None:
    account = make_account("discord", "x", webhook_url="https://169.254.169.254/api/webhooks/1/abc")
    with pytest.raises(PlatformAuthError):
        adapter.publish(account, TEXT)


# -- errors ------------------------------------------------------------------------------------


def test_rate_limit_prefers_the_body_float(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(HOOK, json=WEBHOOK)
    mocked.post(HOOK, status=429, json={"message": "You are being rate limited.", "retry_after": 64.57, "global": False},
                headers={"Retry-After": "65", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1787349664.57",
                         "X-RateLimit-Reset-After": "64.57", "X-RateLimit-Bucket": "abcd1234", "X-RateLimit-Scope": "user"})
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.retry_after == 64.57


def test_rate_limit_without_json_uses_the_header(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(HOOK, status=429, body="error code: 1015", headers={"Retry-After": "65"})
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.retry_after == 65


@pytest.mark.parametrize(("status", "body"), [
    (401, {"message": "Invalid Webhook Token", "code": 50027}),
    (404, {"message": "Unknown Webhook", "code": 10015}),
])
def test_dead_webhook_is_an_auth_error(adapter: Platform, mocked: responses.RequestsMock, status: int, body: dict[str, Any]) -> None:
    mocked.get(HOOK, status=status, json=body)
    with pytest.raises(PlatformAuthError) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.code == "auth_expired" and body["message"] in info.value.message


def test_invalid_form_body_is_final_with_the_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    body = {"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}
    mocked.get(HOOK, json=WEBHOOK)
    mocked.post(HOOK, status=400, json=body)
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert "Invalid Form Body" in info.value.message and info.value.platform_error == body


def test_server_error_before_executing_is_unavailable(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(HOOK, status=502, body="<html>502 Bad Gateway</html>")
    with pytest.raises(PlatformUnavailable):
        adapter.publish(ACCOUNT, TEXT)


def test_server_error_on_execute_is_unknown_without_lookup(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(HOOK, json=WEBHOOK)
    mocked.post(HOOK, status=500, json={"message": "500: Internal Server Error", "code": 0})
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, TEXT)
    assert not adapter.has_lookup and adapter.lookup(ACCOUNT, TEXT) is None


def test_verify_credentials_names_the_webhook(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(HOOK, json=WEBHOOK)
    assert adapter.verify_credentials({"webhook_url": HOOK}).handle == "Publisher"
