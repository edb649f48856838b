"""Discord connect: `webhook.incoming` — the token answer carries the webhook, the one credential kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError, PlatformRejected
from postdodo_connect.platforms import Account, PublishRequest
from postdodo_connect.platforms.base import Platform

from .conftest import APP, CHALLENGE, CODE, REDIRECT_URI, STATE, assert_no_secret, basic_auth, endpoint, query

TOKEN = "GNaVzEtATqdh173tNHEXY9ZYAuhiYxvy"
REFRESH = "PvPL7ELyMDc1836457XCDh1Y8jPbRm"
HOOK_TOKEN = "kKDdjXa1g9tKNs0-_yOwLyALC9gydEWP6gr9sHabuK1vuofjhQDDnlOclJeRIvYK-pj_"
HOOK_URL = f"https://discord.com/api/webhooks/347114750880120863/{HOOK_TOKEN}"
ANSWER: dict[str, Any] = {
    "token_type": "Bearer", "access_token": TOKEN, "scope": "identify webhook.incoming", "expires_in": 604800, "refresh_token": REFRESH,
    "webhook": {"application_id": "310954232226357250", "name": "testwebhook", "url": HOOK_URL, "channel_id": "345626669224982402",
                "token": HOOK_TOKEN, "type": 1, "avatar": None, "guild_id": "290926792226357250", "id": "347114750880120863"}}


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("discord")


def token_endpoint(mocked: responses.RequestsMock, status: int = 200, **answer: Any) -> None:
    mocked.post("https://discord.com/api/oauth2/token", status=status, match=[matchers.header_matcher(basic_auth()), matchers.urlencoded_params_matcher(
        {"grant_type": "authorization_code", "code": CODE, "redirect_uri": REDIRECT_URI})], json=answer)


def test_authorize_url(adapter: Platform) -> None:
    url = adapter.authorization_url(APP, STATE, CHALLENGE)
    assert endpoint(url) == "https://discord.com/oauth2/authorize"
    assert query(url) == {"response_type": "code", "client_id": APP.client_id, "redirect_uri": REDIRECT_URI,
                          "scope": "identify webhook.incoming", "state": STATE}


def test_the_webhook_is_the_one_option_and_publishes(adapter: Platform, mocked: responses.RequestsMock) -> None:
    token_endpoint(mocked, **ANSWER)
    grant = adapter.exchange_code(APP, CODE, None)
    mocked.get("https://discord.com/api/v10/users/@me", match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
               json={"id": "80351110224678912", "username": "nelly", "discriminator": "0", "global_name": "Nelly", "avatar": None})
    [option] = adapter.connect_options(APP, grant)
    assert (option.id, option.kind, option.handle, option.external_user_id, option.expires_at) == (
        "347114750880120863", "webhook", "testwebhook", "80351110224678912", None)
    # the webhook never expires: the 7-day OAuth tokens are not kept
    assert option.credentials == {"webhook_url": HOOK_URL}
    mocked.get(HOOK_URL, json={"id": "347114750880120863", "type": 1, "guild_id": "290926792226357250", "channel_id": "345626669224982402"})
    mocked.post(HOOK_URL, match=[matchers.query_param_matcher({"wait": "true"})],
                json={"id": "1276530019999990000", "channel_id": "345626669224982402", "content": "Hi"})
    account = Account(id="acct_1", platform="discord", handle=option.handle, credentials=dict(option.credentials))
    published = adapter.publish(account, PublishRequest("tgt_1", "Hi"))
    assert published.permalink == "https://discord.com/channels/290926792226357250/345626669224982402/1276530019999990000"


def test_refused_code_without_secrets(adapter: Platform, mocked: responses.RequestsMock) -> None:
    token_endpoint(mocked, status=400, error="invalid_grant", error_description='Invalid "code" in request.')
    with pytest.raises(PlatformRejected, match='Invalid "code" in request') as caught:
        adapter.exchange_code(APP, CODE, None)
    assert_no_secret(caught.value)


def test_grant_without_a_webhook(adapter: Platform, mocked: responses.RequestsMock) -> None:
    token_endpoint(mocked, **{key: value for key, value in ANSWER.items() if key != "webhook"}, )
    grant = adapter.exchange_code(APP, CODE, None)
    with pytest.raises(PlatformAuthError, match="without the webhook") as caught:
        adapter.connect_options(APP, grant)
    assert_no_secret(caught.value, TOKEN, REFRESH, HOOK_TOKEN)


def test_unticked_identify_scope(adapter: Platform, mocked: responses.RequestsMock) -> None:
    token_endpoint(mocked, **{**ANSWER, "scope": "webhook.incoming"})
    grant = adapter.exchange_code(APP, CODE, None)
    with pytest.raises(PlatformAuthError, match="identify") as caught:
        adapter.connect_options(APP, grant)
    assert caught.value.code == "missing_scopes"
    assert_no_secret(caught.value, TOKEN, REFRESH, HOOK_TOKEN)
