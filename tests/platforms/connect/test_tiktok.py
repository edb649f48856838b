"""TikTok connect: Login Kit v2 (`client_key`, secret in the form, `open_id`), private posting by default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError, PlatformRejected
from postdodo_connect.platforms import Account, Media, PublishRequest
from postdodo_connect.platforms.base import Platform
from postdodo_connect.platforms.oauth import Grant

from ..conftest import NOW
from .conftest import APP, CHALLENGE, CODE, REDIRECT_URI, STATE, assert_no_secret, endpoint, query, with_options

API = "https://open.tiktokapis.com/v2"
TOKEN = "act.example12345Example12345Example"
REFRESH = "rft.example12345Example12345Example"
OPEN_ID = "afd97af1-b87b-48b9-ac98-410aghda5344"
ANSWER = {"access_token": TOKEN, "expires_in": 86400, "open_id": OPEN_ID, "refresh_expires_in": 31536000,
          "refresh_token": REFRESH, "scope": "user.info.basic,video.publish", "token_type": "Bearer"}
OK = {"code": "ok", "message": "", "log_id": "20260821100000010113006207250"}


def creator(options: list[str]) -> dict[str, Any]:
    return {"data": {"creator_avatar_url": "https://p16.tiktokcdn.com/a.jpeg", "creator_username": "dodo.shop",
                     "creator_nickname": "Dodo Shop", "privacy_level_options": options, "comment_disabled": False,
                     "duet_disabled": False, "stitch_disabled": True, "max_video_post_duration_sec": 300}, "error": OK}


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("tiktok")


def grant(scope: str = "user.info.basic,video.publish") -> Grant:
    return Grant(access_token=TOKEN, refresh_token=REFRESH, expires_at=NOW + 86400, scopes=tuple(scope.split(",")),
                 raw={**ANSWER, "scope": scope})


def creator_info(mocked: responses.RequestsMock, options: list[str]) -> None:
    mocked.post(f"{API}/post/publish/creator_info/query/", match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
                json=creator(options))


def test_authorize_url_names_the_client_key(adapter: Platform) -> None:
    url = adapter.authorization_url(APP, STATE, CHALLENGE)
    assert endpoint(url) == "https://www.tiktok.com/v2/auth/authorize/"
    # web apps use no PKCE; the client id is called client_key
    assert query(url) == {"response_type": "code", "client_key": APP.client_id, "redirect_uri": REDIRECT_URI,
                          "scope": "user.info.basic,video.publish", "state": STATE}


def test_code_exchange_form_and_open_id(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/oauth/token/", match=[matchers.urlencoded_params_matcher(
        {"client_key": APP.client_id, "client_secret": APP.client_secret, "code": CODE, "grant_type": "authorization_code",
         "redirect_uri": REDIRECT_URI}), matchers.header_matcher({"Content-Type": "application/x-www-form-urlencoded"})], json=ANSWER)
    got = adapter.exchange_code(APP, CODE, None)
    assert "Authorization" not in mocked.calls[0].request.headers
    assert (got.access_token, got.refresh_token, got.expires_at, got.raw["open_id"]) == (TOKEN, REFRESH, NOW + 86400, OPEN_ID)
    assert got.scopes == ("user.info.basic", "video.publish")


@pytest.mark.parametrize(("status", "error", "code"), [(200, PlatformAuthError, "connect_failed"), (400, PlatformRejected, "rejected")])
def test_refused_code(adapter: Platform, mocked: responses.RequestsMock, status: int, error: type[Exception], code: str) -> None:
    mocked.post(f"{API}/oauth/token/", status=status, json={
        "error": "invalid_grant", "error_description": "Authorization code is expired.", "log_id": "202608211000000101"})
    with pytest.raises(error, match="Authorization code is expired") as caught:
        adapter.exchange_code(APP, CODE, None)
    assert getattr(caught.value, "code", None) == code
    assert_no_secret(caught.value)


def test_creator_is_the_one_option_private_by_default(adapter: Platform, mocked: responses.RequestsMock) -> None:
    creator_info(mocked, ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"])
    [option] = adapter.connect_options(APP, grant())
    assert (option.id, option.handle, option.display_name, option.external_user_id) == (OPEN_ID, "dodo.shop", "Dodo Shop", OPEN_ID)
    assert option.credentials == {"access_token": TOKEN, "refresh_token": REFRESH, "expires_at": int(NOW + 86400)}
    assert option.settings == {"privacy_level": "SELF_ONLY"}  # unaudited clients may only post privately
    assert option.expires_at == NOW + 86400
    # the account's first post goes out private
    mocked.post(f"{API}/post/publish/content/init/", match=[matchers.json_params_matcher(
        {"post_info": {"description": "Hi", "privacy_level": "SELF_ONLY", "auto_add_music": True}}, strict_match=False)],
        json={"data": {"publish_id": "p_pub_url~v2.7391040583739000001"}, "error": OK})
    mocked.post(f"{API}/post/publish/status/fetch/", json={"data": {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": []}, "error": OK})
    account = Account(id="acct_1", platform="tiktok", handle=option.handle, credentials=dict(option.credentials), settings=dict(option.settings))
    adapter.publish(account, PublishRequest("tgt_1", "Hi", [Media("image", "https://media.example.com/p1.jpg")]))


def test_audited_apps_may_ask_for_public_posts(adapter: Platform, mocked: responses.RequestsMock) -> None:
    creator_info(mocked, ["PUBLIC_TO_EVERYONE", "SELF_ONLY"])
    [option] = adapter.connect_options(with_options(privacy_level="PUBLIC_TO_EVERYONE"), grant())
    assert option.settings == {"privacy_level": "PUBLIC_TO_EVERYONE"}


def test_privacy_level_the_creator_does_not_offer(adapter: Platform, mocked: responses.RequestsMock) -> None:
    creator_info(mocked, ["SELF_ONLY"])
    with pytest.raises(PlatformRejected, match="PUBLIC_TO_EVERYONE") as caught:
        adapter.connect_options(with_options(privacy_level="PUBLIC_TO_EVERYONE"), grant())
    assert caught.value.code == "privacy_level_unavailable"


def test_unticked_publish_scope(adapter: Platform) -> None:
    with pytest.raises(PlatformAuthError, match="video.publish") as caught:
        adapter.connect_options(APP, grant("user.info.basic"))
    assert caught.value.code == "missing_scopes"
    assert_no_secret(caught.value, TOKEN, REFRESH)


def test_scope_refused_by_the_api(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{API}/post/publish/creator_info/query/", status=401, json={"data": {}, "error": {
        "code": "scope_not_authorized", "message": "The user did not authorize the scope required for completing this request.", "log_id": "2026"}})
    with pytest.raises(PlatformAuthError, match="scope_not_authorized") as caught:
        adapter.connect_options(APP, grant())
    assert_no_secret(caught.value, TOKEN, REFRESH)
