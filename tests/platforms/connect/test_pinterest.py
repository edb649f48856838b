"""Pinterest connect: Basic-authenticated code exchange with a refresh token, then a board picker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError, PlatformRejected
from postdodo_connect.platforms import Account, Media, PublishRequest
from postdodo_connect.platforms.base import Platform
from postdodo_connect.platforms.oauth import Grant

from ..conftest import IMAGE_URL, NOW
from .conftest import APP, CHALLENGE, CODE, REDIRECT_URI, STATE, assert_no_secret, basic_auth, endpoint, query

API = "https://api.pinterest.com/v5"
TOKEN = "pina_AMAZQBQWAAAAAAAAAAAAAAAexample"
REFRESH = "pinr_AQAAAAAAAAAAAAAAAAAAexample"
SCOPE = "boards:read,pins:read,pins:write,user_accounts:read"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})


def board(board_id: str, name: str, privacy: str = "PUBLIC") -> dict[str, object]:
    return {"id": board_id, "name": name, "description": "", "privacy": privacy, "owner": {"username": "acme"},
            "pin_count": 5, "follower_count": 13, "collaborator_count": 0, "created_at": "2020-01-01T20:10:40-00:00"}


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("pinterest")


def grant(scope: str = SCOPE) -> Grant:
    return Grant(access_token=TOKEN, refresh_token=REFRESH, expires_at=NOW + 2592000, scopes=tuple(scope.split(",")))


def user_account(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/user_account", match=[AUTH], json={
        "account_type": "BUSINESS", "id": "1234567890123456789", "username": "acme", "profile_image": "https://i.pinimg.com/a.jpg",
        "website_url": "https://acme.example", "business_name": "Acme"})


def test_authorize_url(adapter: Platform) -> None:
    url = adapter.authorization_url(APP, STATE, CHALLENGE)
    assert endpoint(url) == "https://www.pinterest.com/oauth/"
    assert query(url) == {"response_type": "code", "client_id": APP.client_id, "redirect_uri": REDIRECT_URI, "scope": SCOPE, "state": STATE}


def test_code_exchange_keeps_the_refresh_token(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/oauth/token", match=[matchers.header_matcher(basic_auth()), matchers.urlencoded_params_matcher(
        {"grant_type": "authorization_code", "code": CODE, "redirect_uri": REDIRECT_URI})], json={
        "access_token": TOKEN, "token_type": "bearer", "expires_in": 2592000, "scope": SCOPE, "refresh_token": REFRESH,
        "refresh_token_expires_in": 5184000, "refresh_token_expires_at": 1792533600, "response_type": "authorization_code"})
    got = adapter.exchange_code(APP, CODE, None)
    assert (got.access_token, got.refresh_token, got.expires_at) == (TOKEN, REFRESH, NOW + 2592000)
    assert got.scopes == ("boards:read", "pins:read", "pins:write", "user_accounts:read")


def test_refused_code(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/oauth/token", status=400, json={"code": 1, "message": "Invalid authorization code."})
    with pytest.raises(PlatformRejected, match="Invalid authorization code") as caught:
        adapter.exchange_code(APP, CODE, None)
    assert_no_secret(caught.value)


def test_one_option_per_board_across_pages(adapter: Platform, mocked: responses.RequestsMock) -> None:
    user_account(mocked)
    mocked.get(f"{API}/boards", match=[AUTH, matchers.query_param_matcher({"page_size": "250"})],
               json={"items": [board("549755885175", "Summer recipes"), board("549755885176", "Launches", "PROTECTED")], "bookmark": "Y2JVSG81V2"})
    mocked.get(f"{API}/boards", match=[AUTH, matchers.query_param_matcher({"page_size": "250", "bookmark": "Y2JVSG81V2"})],
               json={"items": [board("549755885177", "Shop")], "bookmark": None})
    options = adapter.connect_options(APP, grant())
    assert [(o.id, o.kind, o.handle, o.display_name) for o in options] == [
        ("549755885175", "board", "acme", "Summer recipes"), ("549755885176", "board", "acme", "Launches"), ("549755885177", "board", "acme", "Shop")]
    assert {o.external_user_id for o in options} == {"1234567890123456789"}
    assert options[0].credentials == {"access_token": TOKEN, "board_id": "549755885175", "refresh_token": REFRESH,
                                      "expires_at": int(NOW + 2592000)}
    # the picked board is what publish pins to
    mocked.post(f"{API}/pins", match=[AUTH, matchers.json_params_matcher({"board_id": "549755885176"}, strict_match=False)],
                status=201, json={"id": "813744226420795884", "board_id": "549755885176"})
    account = Account(id="acct_1", platform="pinterest", handle="acme", credentials=dict(options[1].credentials))
    assert adapter.publish(account, PublishRequest("tgt_1", "Pin", [Media("image", IMAGE_URL)])).platform_post_id == "813744226420795884"


def test_no_board_to_pin_to(adapter: Platform, mocked: responses.RequestsMock) -> None:
    user_account(mocked)
    mocked.get(f"{API}/boards", json={"items": [], "bookmark": None})
    with pytest.raises(PlatformRejected, match="no board") as caught:
        adapter.connect_options(APP, grant())
    assert caught.value.code == "no_targets"


def test_missing_write_scope(adapter: Platform) -> None:
    with pytest.raises(PlatformAuthError, match="pins:write") as caught:
        adapter.connect_options(APP, grant("boards:read,user_accounts:read"))
    assert caught.value.code == "missing_scopes"
    assert_no_secret(caught.value, TOKEN, REFRESH)


def test_rejected_token_in_the_picker(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/user_account", status=401, json={"code": 2, "message": "Authentication failed."})
    with pytest.raises(PlatformAuthError, match="Authentication failed") as caught:
        adapter.connect_options(APP, grant())
    assert_no_secret(caught.value, TOKEN, REFRESH)
