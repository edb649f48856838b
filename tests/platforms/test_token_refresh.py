"""The token lifecycle of each adapter: the refresh request it sends, what it stores, how a refusal reads."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError, PlatformUnavailable
from postdodo_connect.platforms.base import Platform
from postdodo_connect.platforms.oauth import ClientApp
from tests.platforms.conftest import NOW

APP = ClientApp("app-id", "app-secret", "")
DAY = 86400.0


def test_x_refresh_rotates_the_pair_and_states_the_expiry(make_adapter: Callable[[str], Platform],
                                                          mocked: responses.RequestsMock) -> None:
    x = make_adapter("x")
    creds = {"access_token": "tok1", "refresh_token": "r1", "user_id": "2244994945"}
    assert not x.can_refresh(creds) and x.can_refresh(creds, APP)  # needs a client: stored or configured
    mocked.post("https://api.x.com/2/oauth2/token", json={
        "token_type": "bearer", "expires_in": 7200, "access_token": "tok2", "refresh_token": "r2",
        "scope": "tweet.read users.read tweet.write offline.access"}, match=[
        matchers.urlencoded_params_matcher({"grant_type": "refresh_token", "refresh_token": "r1"}),
        matchers.header_matcher({"Authorization": "Basic YXBwLWlkOmFwcC1zZWNyZXQ="})])  # confidential client
    refreshed = x.refresh_credentials(creds, APP)
    assert refreshed.credentials == {"access_token": "tok2", "refresh_token": "r2", "user_id": "2244994945",
                                     "expires_at": NOW + 7200}
    assert refreshed.expires_at == NOW + 7200


def test_a_spent_refresh_token_is_a_refusal_without_tokens_in_it(make_adapter: Callable[[str], Platform],
                                                                 mocked: responses.RequestsMock) -> None:
    x = make_adapter("x")
    mocked.post("https://api.x.com/2/oauth2/token", status=400, json={
        "error": "invalid_request", "error_description": "Value passed for the token was invalid."})
    with pytest.raises(PlatformAuthError) as caught:
        x.refresh_credentials({"access_token": "secret-access", "refresh_token": "secret-refresh", "client_id": "cid"})
    assert caught.value.code == "refresh_refused"
    assert "Value passed for the token was invalid." in caught.value.message
    assert "secret" not in caught.value.message + json.dumps(caught.value.platform_error)


@pytest.mark.parametrize("answer", [
    {"status": 503, "body": "upstream unavailable"},
    {"status": 400, "json": {"error": "temporarily_unavailable"}},
])
def test_an_outage_of_the_token_endpoint_is_retryable(make_adapter: Callable[[str], Platform],
                                                      mocked: responses.RequestsMock, answer: dict[str, object]) -> None:
    mocked.post("https://api.x.com/2/oauth2/token", **answer)  # type: ignore[arg-type]
    with pytest.raises(PlatformUnavailable) as caught:
        make_adapter("x").refresh_credentials({"access_token": "a", "refresh_token": "r", "client_id": "cid"})
    assert caught.value.code == "refresh_unavailable" and caught.value.retryable


def test_tiktok_refresh_sends_the_client_key_and_keeps_the_rotated_token(make_adapter: Callable[[str], Platform],
                                                                        mocked: responses.RequestsMock) -> None:
    tiktok = make_adapter("tiktok")
    creds = {"access_token": "act.1", "refresh_token": "rft.1", "open_id": "afd97af1"}
    assert not tiktok.can_refresh(creds) and tiktok.can_refresh(creds, APP)
    mocked.post("https://open.tiktokapis.com/v2/oauth/token/", json={
        "access_token": "act.2", "expires_in": 86400, "open_id": "afd97af1", "refresh_expires_in": 31536000,
        "refresh_token": "rft.2", "scope": "user.info.basic,video.publish", "token_type": "Bearer"},
        match=[matchers.urlencoded_params_matcher({"grant_type": "refresh_token", "refresh_token": "rft.1",
                                                   "client_key": "app-id", "client_secret": "app-secret"})])
    refreshed = tiktok.refresh_credentials(creds, APP)
    assert (refreshed.credentials["access_token"], refreshed.credentials["refresh_token"]) == ("act.2", "rft.2")
    assert refreshed.expires_at == NOW + DAY


def test_tiktok_answers_an_invalid_grant_in_a_200(make_adapter: Callable[[str], Platform],
                                                 mocked: responses.RequestsMock) -> None:
    mocked.post("https://open.tiktokapis.com/v2/oauth/token/", json={
        "error": "invalid_grant", "error_description": "Refresh token is invalid or expired.", "log_id": "2023"})
    with pytest.raises(PlatformAuthError, match="Refresh token is invalid or expired"):
        make_adapter("tiktok").refresh_credentials({"access_token": "act.1", "refresh_token": "rft.1"}, APP)


def test_linkedin_refreshes_only_where_a_refresh_token_was_granted(make_adapter: Callable[[str], Platform],
                                                                  mocked: responses.RequestsMock) -> None:
    linkedin = make_adapter("linkedin")
    assert not linkedin.can_refresh({"access_token": "AQUv", "expires_at": NOW + 60 * DAY}, APP)
    creds = {"access_token": "AQUv", "refresh_token": "AQWc", "author_urn": "urn:li:person:782bbtaQ"}
    mocked.post("https://www.linkedin.com/oauth/v2/accessToken", json={
        "access_token": "AQUw", "expires_in": 5184000, "refresh_token": "AQWc", "refresh_token_expires_in": 525600},
        match=[matchers.urlencoded_params_matcher({"grant_type": "refresh_token", "refresh_token": "AQWc",
                                                   "client_id": "app-id", "client_secret": "app-secret"})])
    refreshed = linkedin.refresh_credentials(creds, APP)
    assert refreshed.credentials == creds | {"access_token": "AQUw", "expires_at": NOW + 5184000}


def test_threads_refreshes_its_long_lived_token(make_adapter: Callable[[str], Platform],
                                                mocked: responses.RequestsMock) -> None:
    threads = make_adapter("threads")
    creds = {"access_token": "THQVJlong", "user_id": "17841400", "expires_at": NOW + 5 * DAY}
    assert threads.can_refresh(creds) and not threads.can_refresh({"access_token": "THQVJ", "user_id": "1"})
    mocked.get("https://graph.threads.net/refresh_access_token", json={
        "access_token": "THQVJnew", "token_type": "bearer", "expires_in": 5183944}, match=[
        matchers.query_param_matcher({"grant_type": "th_refresh_token", "access_token": "THQVJlong"})])
    refreshed = threads.refresh_credentials(creds)
    assert refreshed.credentials == creds | {"access_token": "THQVJnew", "expires_at": NOW + 5183944}


def test_instagram_refreshes_instagram_login_tokens_only(make_adapter: Callable[[str], Platform],
                                                         mocked: responses.RequestsMock) -> None:
    instagram = make_adapter("instagram")
    facebook_login = {"access_token": "EAAB", "ig_user_id": "17841405", "expires_at": NOW + DAY}
    instagram_login = facebook_login | {"access_token": "IGQW", "login": "instagram"}
    assert not instagram.can_refresh(facebook_login) and instagram.can_refresh(instagram_login)
    mocked.get("https://graph.instagram.com/refresh_access_token", json={
        "access_token": "IGQWnew", "token_type": "bearer", "expires_in": 5183944}, match=[
        matchers.query_param_matcher({"grant_type": "ig_refresh_token", "access_token": "IGQW"})])
    assert instagram.refresh_credentials(instagram_login).credentials["access_token"] == "IGQWnew"


def test_an_expired_meta_token_is_a_refusal(make_adapter: Callable[[str], Platform],
                                            mocked: responses.RequestsMock) -> None:
    mocked.get("https://graph.threads.net/refresh_access_token", status=400, json={"error": {
        "message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190}})
    with pytest.raises(PlatformAuthError, match="Session has expired") as caught:
        make_adapter("threads").refresh_credentials({"access_token": "THQVJ", "expires_at": NOW - 1})
    assert caught.value.code == "refresh_refused"


def test_bluesky_renews_with_refresh_session_before_logging_in(make_adapter: Callable[[str], Platform],
                                                              mocked: responses.RequestsMock) -> None:
    bluesky = make_adapter("bluesky")
    creds = {"identifier": "alice.bsky.social", "app_password": "abcd-efgh-ijkl-mnop",
             "session": {"access": "a1", "refresh": "r1", "did": "did:plc:abc", "handle": "alice.bsky.social",
                         "pds": "https://pds.example"}}
    answer = {"accessJwt": "a2", "refreshJwt": "r2", "did": "did:plc:abc", "handle": "alice.bsky.social"}
    mocked.post("https://bsky.social/xrpc/com.atproto.server.refreshSession", json=answer,
                match=[matchers.header_matcher({"Authorization": "Bearer r1"})])
    session = bluesky.refresh_credentials(creds).credentials["session"]
    assert (session["access"], session["refresh"], session["pds"]) == ("a2", "r2", "https://pds.example")
    # a refused refresh JWT falls back to one login
    mocked.post("https://bsky.social/xrpc/com.atproto.server.refreshSession", status=400,
                json={"error": "ExpiredToken", "message": "Token has expired"})
    mocked.post("https://bsky.social/xrpc/com.atproto.server.createSession", json=answer | {"accessJwt": "a3"})
    assert bluesky.refresh_credentials(creds).credentials["session"]["access"] == "a3"


def test_a_lost_token_answer_is_retryable_and_never_an_unknown_post(make_adapter: Callable[[str], Platform],
                                                                   mocked: responses.RequestsMock) -> None:
    mocked.post("https://api.x.com/2/oauth2/token", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(PlatformUnavailable) as caught:
        make_adapter("x").refresh_credentials({"access_token": "a", "refresh_token": "r", "client_id": "cid"})
    assert (caught.value.code, caught.value.retryable) == ("refresh_outcome_unknown", True)
