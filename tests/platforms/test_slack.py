"""Slack adapter: chat.postMessage with text or blocks, `ok: false` errors, Retry-After, history reconcile."""

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
)
from postdodo_connect.platforms import Media, PublishRequest
from postdodo_connect.platforms.base import Platform

from .conftest import IMAGE_URL, NOW, make_account

API = "https://slack.com/api"
TOKEN = "xoxb-1234-5678-abcdef"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
ACCOUNT = make_account("slack", "ghostbusters", bot_token=TOKEN, channel="C1H9RESGL")
TS = "1787349599.000247"
LINK = "https://ghostbusters.slack.com/archives/C1H9RESGL/p1787349599000247"
TEXT = PublishRequest(target_id="tgt_1", caption="Launch day! https://example.com/blog")


def posted(text: str) -> dict[str, Any]:
    return {"ok": True, "channel": "C1H9RESGL", "ts": TS, "message": {
        "text": text, "username": "ecto1", "bot_id": "B19LU7CSY", "type": "message", "subtype": "bot_message", "ts": TS}}


def permalink_ok(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/chat.getPermalink", match=[AUTH, matchers.query_param_matcher({"channel": "C1H9RESGL", "message_ts": TS})],
               json={"ok": True, "channel": "C1H9RESGL", "permalink": LINK})


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("slack")


# -- preflight ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("caption", "ok"), [
    ("a" * 40000, True), ("a" * 40001, False),
    ("日" * 40000, True), ("😀" * 40001, False),
    ("&" * 8000, True), ("&" * 8001, False),  # each & is sent as &amp;
])
def test_text_limit_counts_escaped_characters(adapter: Platform, caption: str, ok: bool) -> None:
    assert [p.rule for p in adapter.validate(caption, [])] == ([] if ok else ["slack.caption.max_length"])


def test_permalink_recipe(adapter: Platform) -> None:
    ts = adapter.sample_post_id("seed")
    seconds, _, micros = ts.partition(".")
    assert seconds.isdigit() and len(micros) == 6
    assert adapter.permalink("ghostbusters", ts).startswith("https://ghostbusters.slack.com/archives/C")


# -- publish -----------------------------------------------------------------------------------


def test_text_post_then_permalink(adapter: Platform, mocked: responses.RequestsMock) -> None:
    sent = {"channel": "C1H9RESGL", "text": TEXT.caption, "unfurl_links": True}
    mocked.post(f"{API}/chat.postMessage", match=[AUTH, matchers.json_params_matcher(sent)], json=posted(TEXT.caption))
    permalink_ok(mocked)
    published = adapter.publish(ACCOUNT, TEXT)
    assert (published.platform_post_id, published.permalink) == (TS, LINK)


def test_caption_is_escaped_so_it_cannot_ping_the_channel(adapter: Platform, mocked: responses.RequestsMock) -> None:
    escaped = "&lt;!channel&gt; Q&amp;A at 5"
    sent = {"channel": "C1H9RESGL", "text": escaped, "unfurl_links": True}
    mocked.post(f"{API}/chat.postMessage", match=[matchers.json_params_matcher(sent)], json=posted(escaped))
    permalink_ok(mocked)
    adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption="<!channel> Q&A at 5"))


def test_image_post_uses_section_and_image_blocks(adapter: Platform, mocked: responses.RequestsMock) -> None:
    caption = "a" * 3000 + "日本"
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3000}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "日本"}},
        {"type": "image", "image_url": IMAGE_URL, "alt_text": "image"},
    ]
    sent = {"channel": "C1H9RESGL", "text": caption, "unfurl_links": True, "blocks": blocks}
    mocked.post(f"{API}/chat.postMessage", match=[matchers.json_params_matcher(sent)], json=posted(caption))
    permalink_ok(mocked)
    assert adapter.publish(ACCOUNT, PublishRequest(target_id="t", caption=caption, media=[Media(type="image", url=IMAGE_URL)])).permalink == LINK


def test_failed_permalink_read_uses_the_archive_recipe(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/chat.postMessage", json=posted(TEXT.caption))
    mocked.get(f"{API}/chat.getPermalink", status=503, body="upstream connect error")
    assert adapter.publish(ACCOUNT, TEXT).permalink == LINK


# -- errors ------------------------------------------------------------------------------------


def test_rate_limit_uses_retry_after(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/chat.postMessage", status=429, json={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "30"})
    with pytest.raises(PlatformRateLimited) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.retry_after == 30


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_auth_errors(adapter: Platform, mocked: responses.RequestsMock, error: str) -> None:
    mocked.post(f"{API}/chat.postMessage", json={"ok": False, "error": error})
    with pytest.raises(PlatformAuthError) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert info.value.code == "auth_expired"


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "msg_too_long", "invalid_blocks"])
def test_permanent_errors_keep_the_code(adapter: Platform, mocked: responses.RequestsMock, error: str) -> None:
    body = {"ok": False, "error": error}
    mocked.post(f"{API}/chat.postMessage", json=body)
    with pytest.raises(PlatformRejected) as info:
        adapter.publish(ACCOUNT, TEXT)
    assert error in info.value.message and info.value.platform_error == body


def test_server_error_on_post_is_unknown(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/chat.postMessage", status=500, body="")
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, TEXT)


def test_fatal_error_may_have_posted_and_history_finds_it(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/chat.postMessage", json={"ok": False, "error": "fatal_error"})
    with pytest.raises(OutcomeUnknown):
        adapter.publish(ACCOUNT, TEXT)
    mocked.get(f"{API}/conversations.history", match=[AUTH, matchers.query_param_matcher(
        {"channel": "C1H9RESGL", "oldest": f"{NOW - 86400:.6f}", "limit": "20"})], json={"ok": True, "messages": [
            {"type": "message", "user": "U012AB3CDE", "text": TEXT.caption, "ts": "1787349500.000100"},  # a human said the same
            {"type": "message", "subtype": "bot_message", "bot_id": "B19LU7CSY", "text": TEXT.caption, "ts": TS},
        ], "has_more": False})
    permalink_ok(mocked)
    found = adapter.lookup(ACCOUNT, TEXT)
    assert found is not None and (found.platform_post_id, found.permalink) == (TS, LINK)


def test_lookup_returns_none_when_history_has_no_match(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/conversations.history", json={"ok": True, "messages": [], "has_more": False})
    assert adapter.lookup(ACCOUNT, TEXT) is None


def test_verify_credentials_names_the_workspace(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/auth.test", match=[AUTH], json={"ok": True, "url": "https://ghostbusters.slack.com/", "team": "Ghostbusters",
                                                       "user": "ecto1", "team_id": "T12345", "user_id": "W12345", "bot_id": "B19LU7CSY"})
    profile = adapter.verify_credentials({"bot_token": TOKEN, "channel": "C1H9RESGL"})
    assert (profile.handle, profile.display_name) == ("ghostbusters", "Ghostbusters")
