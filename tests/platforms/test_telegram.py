"""Telegram adapter: text and caption limits, send* calls by URL, t.me links, flood-wait hints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
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

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
API = f"https://api.telegram.org/bot{TOKEN}"
ACCOUNT = make_account("telegram", "mychannel", bot_token=TOKEN, chat_id="@mychannel")
CHANNEL = {"id": -1001234567890, "title": "My Channel", "username": "mychannel", "type": "channel"}
IMAGE = Media(type="image", url=IMAGE_URL)
TEXT = PublishRequest(target_id="tgt_1", caption="Launch day! https://example.com/blog")


def message(message_id: int = 16, chat: dict[str, Any] = CHANNEL, **extra: Any) -> dict[str, Any]:
    return {"message_id": message_id, "date": 1724234400, "chat": chat, "sender_chat": chat, **extra}


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("telegram")


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "media", "rules"), [
    ("a" * 4096, [], []),
    ("a" * 4097, [], ["telegram.caption.max_length"]),
    ("日" * 4096, [], []),
    ("a" * 1024, [IMAGE], []),
    ("a" * 1025, [IMAGE], ["telegram.caption.max_length_with_media"]),
    ("日" * 1024, [IMAGE], []),
    ("日" * 1025, [IMAGE], ["telegram.caption.max_length_with_media"]),
    ("a" * 4097, [IMAGE], ["telegram.caption.max_length"]),
])
def test_text_and_caption_limits(adapter: Platform, caption: str, media: list[Media], rules: list[str]) -> None:
    assert [p.rule for p in adapter.validate(caption, media)] == rules


def test_permalinks_for_public_and_private_chats(adapter: Platform) -> None:
    assert adapter.permalink("@mychannel", "16") == "https://t.me/mychannel/16"
    assert adapter.permalink("-1001234567890", "16") == "https://t.me/c/1234567890/16"
    assert adapter.sample_post_id("seed").isdigit()


# -- publish -----------------------------------------------------------------------------------


def test_text_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    sent = {"chat_id": "@mychannel", "text": TEXT.caption}
    mocked.post(f"{API}/sendMessage", match=[matchers.json_params_matcher(sent)], json={"ok": True, "result": message(
        text=TEXT.caption, entities=[{"offset": 12, "length": 24, "type": "url"}])})
    published = adapter.publish(ACCOUNT, TEXT)
    assert (published.platform_post_id, published.permalink) == ("16", "https://t.me/mychannel/16")


def test_photo_by_url_with_caption(adapter: Platform, mocked: responses.RequestsMock) -> None:
    sent = {"chat_id": "@mychannel", "photo": IMAGE_URL, "caption": "Look"}
    photo = [{"file_id": "AgACAgQAAx0", "file_unique_id": "AQADx7Ex", "file_size": 1432, "width": 90, "height": 60}]
    mocked.post(f"{API}/sendPhoto", match=[matchers.json_params_matcher(sent)], json={"ok": True, "result": message(17, photo=photo, caption="Look")})
    assert adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="Look", media=[IMAGE])).permalink == "https://t.me/mychannel/17"


def test_media_group_puts_the_caption_on_the_first_item(adapter: Platform, mocked: responses.RequestsMock) -> None:
    video = Media(type="video", url="https://cdn.example.com/v.mp4")
    sent = {"chat_id": "@mychannel", "media": [
        {"type": "photo", "media": IMAGE_URL, "caption": "Album"}, {"type": "video", "media": video.url}]}
    mocked.post(f"{API}/sendMediaGroup", match=[matchers.json_params_matcher(sent)],
                json={"ok": True, "result": [message(20, media_group_id="1339"), message(21, media_group_id="1339")]})
    published = adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="Album", media=[IMAGE, video]))
    assert (published.platform_post_id, published.permalink) == ("20", "https://t.me/mychannel/20")


def test_private_channel_link_drops_the_100_prefix(adapter: Platform, mocked: responses.RequestsMock) -> None:
    private = {"id": -1001234567890, "title": "Team", "type": "channel"}
    mocked.post(f"{API}/sendMessage", json={"ok": True, "result": message(16, private, text="hi")})
    account = make_account("telegram", "-1001234567890", bot_token=TOKEN, chat_id="-1001234567890")
    assert adapter.publish(account, PublishRequest(target_id="t", caption="hi")).permalink == "https://t.me/c/1234567890/16"


# -- errors ------------------------------------------------------------------------------------


def test_flood_wait_uses_parameters_retry_after(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/sendMessage", status=429, json={
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 35", "parameters": {"retry_after": 35}})
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.retry_after == 35


def test_bad_token_is_an_auth_error_without_leaking_it(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/sendMessage", status=401, json={"ok": False, "error_code": 401, "description": "Unauthorized"})
    with pytest.raises(PlatformAuthError) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.code == "auth_expired" and TOKEN not in str(info.value)


@pytest.mark.parametrize(("status", "description"), [
    (400, "Bad Request: message is too long"),
    (400, "Bad Request: chat not found"),
    (403, "Forbidden: bot was kicked from the channel chat"),
])
def test_permanent_errors_keep_the_description(adapter: Platform, mocked: responses.RequestsMock, status: int, description: str) -> None:
    body = {"ok": False, "error_code": status, "description": description}
    mocked.post(f"{API}/sendMessage", status=status, json=body)
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert description in info.value.message and info.value.platform_error == body


@pytest.mark.parametrize("answer", [{"status": 502, "body": "<html>502 Bad Gateway</html>"}, {"body": requests.exceptions.ReadTimeout()}])
def test_ambiguous_send_is_unknown_and_there_is_no_lookup(adapter: Platform, mocked: responses.RequestsMock, answer: dict[str, Any]) -> None:
    mocked.post(f"{API}/sendMessage", **answer)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, TEXT)
    assert not adapter.has_lookup and adapter.lookup(ACCOUNT, TEXT) is None


def test_server_error_on_verify_is_unavailable(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/getChat", status=502, body="Bad Gateway")
    with pytest.raises(PlatformUnavailable):
        adapter.verify_credentials({"bot_token": TOKEN, "chat_id": "@mychannel"})


def test_verify_credentials_reads_the_chat(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/getChat", match=[matchers.json_params_matcher({"chat_id": "@mychannel"})], json={"ok": True, "result": CHANNEL})
    profile = adapter.verify_credentials({"bot_token": TOKEN, "chat_id": "@mychannel"})
    assert (profile.handle, profile.display_name) == ("mychannel", "My Channel")


def test_options_silence_and_protect_the_message(adapter: Platform, mocked: responses.RequestsMock) -> None:
    sent = {"chat_id": "@mychannel", "text": TEXT.caption, "disable_notification": True, "protect_content": True}
    mocked.post(f"{API}/sendMessage", match=[matchers.json_params_matcher(sent)], json={"ok": True, "result": message(
        text=TEXT.caption)})
    adapter.publish(ACCOUNT, PublishRequest(target_id="tgt_1", caption=TEXT.caption,
                                            options={"disable_notification": True, "protect_content": True}))
