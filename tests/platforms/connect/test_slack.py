"""Slack connect: OAuth v2 whose consent screen picks the channel (incoming-webhook); the bot token posts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError
from postdodo_connect.platforms import Account, PublishRequest
from postdodo_connect.platforms.base import Platform

from .conftest import APP, CHALLENGE, CODE, REDIRECT_URI, STATE, assert_no_secret, basic_auth, endpoint, query

API = "https://slack.com/api"
BOT = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
SCOPE = "chat:write,chat:write.public,channels:history,incoming-webhook"
HOOK_URL = "https://hooks.slack.com/services/T9TK3CUKW/B0123/XXXXXXXXXXXXXXXXXXXXXXXX"
ANSWER: dict[str, Any] = {
    "ok": True, "access_token": BOT, "token_type": "bot", "scope": SCOPE, "bot_user_id": "U0KRQLJ9H", "app_id": "A0KRD7HC3",
    "team": {"id": "T9TK3CUKW", "name": "Slack Softball Team"}, "enterprise": None, "is_enterprise_install": False,
    "authed_user": {"id": "U1234"},
    "incoming_webhook": {"channel": "#launches", "channel_id": "C05002EAE",
                         "configuration_url": "https://softball.slack.com/services/B0123", "url": HOOK_URL}}
BOT_AUTH = matchers.header_matcher({"Authorization": f"Bearer {BOT}"})


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("slack")


def token_endpoint(mocked: responses.RequestsMock, answer: dict[str, Any]) -> None:
    mocked.post(f"{API}/oauth.v2.access", match=[matchers.header_matcher(basic_auth()), matchers.urlencoded_params_matcher(
        {"grant_type": "authorization_code", "code": CODE, "redirect_uri": REDIRECT_URI})], json=answer)


def test_authorize_url(adapter: Platform) -> None:
    url = adapter.authorization_url(APP, STATE, CHALLENGE)
    assert endpoint(url) == "https://slack.com/oauth/v2/authorize"
    assert query(url) == {"response_type": "code", "client_id": APP.client_id, "redirect_uri": REDIRECT_URI, "scope": SCOPE, "state": STATE}


def test_the_picked_channel_is_the_one_option_and_publishes(adapter: Platform, mocked: responses.RequestsMock) -> None:
    token_endpoint(mocked, ANSWER)
    grant = adapter.exchange_code(APP, CODE, None)
    assert (grant.access_token, grant.expires_at, grant.refresh_token) == (BOT, None, None)  # bot tokens do not expire
    mocked.post(f"{API}/auth.test", match=[BOT_AUTH], json={
        "ok": True, "url": "https://softball.slack.com/", "team": "Slack Softball Team", "user": "poster", "team_id": "T9TK3CUKW",
        "user_id": "U0KRQLJ9H", "bot_id": "B19LU7CSY"})
    [option] = adapter.connect_options(APP, grant)
    assert (option.id, option.kind, option.handle, option.display_name, option.external_user_id) == (
        "C05002EAE", "channel", "softball", "#launches (Slack Softball Team)", "U1234")
    assert option.credentials == {"bot_token": BOT, "channel": "C05002EAE"}
    mocked.post(f"{API}/chat.postMessage", match=[BOT_AUTH, matchers.json_params_matcher({"channel": "C05002EAE"}, strict_match=False)],
                json={"ok": True, "channel": "C05002EAE", "ts": "1787349599.000247"})
    mocked.get(f"{API}/chat.getPermalink", json={"ok": True, "permalink": "https://softball.slack.com/archives/C05002EAE/p1787349599000247"})
    account = Account(id="acct_1", platform="slack", handle=option.handle, credentials=dict(option.credentials))
    assert adapter.publish(account, PublishRequest("tgt_1", "Hi")).platform_post_id == "1787349599.000247"


def test_rotating_tokens_keep_their_refresh_token(adapter: Platform, mocked: responses.RequestsMock, clock: Any) -> None:
    token_endpoint(mocked, {**ANSWER, "access_token": "xoxe.xoxb-1-rotating", "expires_in": 43200, "refresh_token": "xoxe-1-refresh"})
    grant = adapter.exchange_code(APP, CODE, None)
    mocked.post(f"{API}/auth.test", json={"ok": True, "url": "https://softball.slack.com/", "team": "Slack Softball Team"})
    [option] = adapter.connect_options(APP, grant)
    assert option.credentials == {"bot_token": "xoxe.xoxb-1-rotating", "channel": "C05002EAE", "refresh_token": "xoxe-1-refresh",
                                  "expires_at": int(clock() + 43200)}


def test_ok_false_is_a_refusal_without_secrets(adapter: Platform, mocked: responses.RequestsMock) -> None:
    token_endpoint(mocked, {"ok": False, "error": "invalid_code"})
    with pytest.raises(PlatformAuthError, match="invalid_code") as caught:
        adapter.exchange_code(APP, CODE, None)
    assert caught.value.code == "connect_failed"
    assert_no_secret(caught.value)


def test_grant_without_the_channel_picker_scope(adapter: Platform, mocked: responses.RequestsMock) -> None:
    token_endpoint(mocked, {**ANSWER, "scope": "chat:write", "incoming_webhook": None})
    grant = adapter.exchange_code(APP, CODE, None)
    with pytest.raises(PlatformAuthError, match="incoming-webhook") as caught:
        adapter.connect_options(APP, grant)
    assert caught.value.code == "missing_scopes"
    assert_no_secret(caught.value, BOT)
