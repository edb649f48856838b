"""Threads connect: the code buys a one-hour token, traded at once for a 60-day one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError
from postdodo_connect.platforms import Account, PublishRequest
from postdodo_connect.platforms.base import Platform
from postdodo_connect.platforms.oauth import Grant

from ..conftest import NOW
from .conftest import APP, CHALLENGE, CODE, REDIRECT_URI, STATE, assert_no_secret, endpoint, query

SHORT = "THQVJshortLivedToken123"
LONG = "THQVJlongLivedToken456"
USER = "26151330901131024"


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("threads")


def short_exchange(mocked: responses.RequestsMock) -> None:
    form = {"client_id": APP.client_id, "client_secret": APP.client_secret, "code": CODE,
            "grant_type": "authorization_code", "redirect_uri": REDIRECT_URI}
    mocked.post("https://graph.threads.net/oauth/access_token", match=[matchers.urlencoded_params_matcher(form)],
                json={"access_token": SHORT, "user_id": USER})


def test_authorize_url(adapter: Platform) -> None:
    url = adapter.authorization_url(APP, STATE, CHALLENGE)
    assert endpoint(url) == "https://threads.net/oauth/authorize"
    assert query(url) == {"response_type": "code", "client_id": APP.client_id, "redirect_uri": REDIRECT_URI,
                          "scope": "threads_basic,threads_content_publish", "state": STATE}


def test_short_lived_token_is_traded_for_a_long_lived_one(adapter: Platform, mocked: responses.RequestsMock) -> None:
    short_exchange(mocked)
    mocked.get("https://graph.threads.net/access_token", match=[matchers.query_param_matcher(
        {"grant_type": "th_exchange_token", "client_secret": APP.client_secret, "access_token": SHORT})],
        json={"access_token": LONG, "token_type": "bearer", "expires_in": 5183944})
    got = adapter.exchange_code(APP, CODE, None)
    assert "Authorization" not in mocked.calls[0].request.headers
    assert (got.access_token, got.expires_at, got.raw["user_id"]) == (LONG, NOW + 5183944, USER)
    assert got.scopes == ()  # Threads reports none


def test_failed_long_lived_exchange_names_no_token(adapter: Platform, mocked: responses.RequestsMock) -> None:
    short_exchange(mocked)
    mocked.get("https://graph.threads.net/access_token", status=400, json={"error": {
        "message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "fbtrace_id": "AbC"}})
    with pytest.raises(PlatformAuthError, match="Session has expired") as caught:
        adapter.exchange_code(APP, CODE, None)
    assert_no_secret(caught.value, SHORT, LONG)


def test_the_profile_is_the_one_option_and_publishes(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get("https://graph.threads.net/v1.0/me", match=[matchers.query_param_matcher(
        {"fields": "id,username,name", "access_token": LONG})], json={"id": USER, "username": "dodo.shop", "name": "Dodo Shop"})
    grant = Grant(access_token=LONG, expires_at=NOW + 5183944, raw={"user_id": USER})
    [option] = adapter.connect_options(APP, grant)
    assert (option.id, option.handle, option.display_name, option.external_user_id, option.expires_at) == (
        USER, "dodo.shop", "Dodo Shop", USER, NOW + 5183944)
    assert option.credentials == {"access_token": LONG, "user_id": USER, "expires_at": int(NOW + 5183944)}
    base = "https://graph.threads.net/v1.0"
    mocked.post(f"{base}/{USER}/threads", match=[matchers.urlencoded_params_matcher(
        {"media_type": "TEXT", "text": "Hello", "access_token": LONG})], json={"id": "17889615691921648"})
    mocked.post(f"{base}/{USER}/threads_publish", json={"id": "18073912352326148"})
    mocked.get(f"{base}/18073912352326148", json={"id": "18073912352326148", "permalink": "https://www.threads.net/@dodo.shop/post/C-AbCdEfGhI"})
    account = Account(id="acct_1", platform="threads", handle=option.handle, credentials=dict(option.credentials))
    assert adapter.publish(account, PublishRequest("tgt_1", "Hello")).permalink == "https://www.threads.net/@dodo.shop/post/C-AbCdEfGhI"
