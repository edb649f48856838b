"""Facebook Login: code → short- → long-lived user token, granted permissions, Pages and their Instagram accounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError, PlatformRejected
from postdodo_connect.platforms import Account, PublishRequest
from postdodo_connect.platforms.base import Platform
from postdodo_connect.platforms.oauth import Grant

from ..conftest import NOW
from .conftest import APP, CHALLENGE, CODE, REDIRECT_URI, STATE, assert_no_secret, endpoint, query

GRAPH = "https://graph.facebook.com/v23.0"
SHORT = "EAAGshort0ZBZCzZAyZBuser"
LONG = "EAAGlong0ZBZCzZAyZBZAlonglived"
PAGE_TOKEN = "EAAGpage0ZBZCwidgetsZD"
OTHER_PAGE_TOKEN = "EAAGpage0ZBZCbakeryZD"
ALL = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "instagram_basic", "instagram_content_publish")
FIELDS = "id,name,username,access_token,tasks,instagram_business_account{id,username,name}"
WIDGETS = {"id": "112233445566", "name": "Acme Widgets", "username": "acmewidgets", "access_token": PAGE_TOKEN,
           "category": "Software", "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
           "instagram_business_account": {"id": "17841400008460056", "username": "acmewidgets", "name": "Acme Widgets"}}
BAKERY = {"id": "223344556677", "name": "Dodo Bakery", "access_token": OTHER_PAGE_TOKEN, "category": "Bakery",
          "tasks": ["ANALYZE", "CREATE_CONTENT", "MODERATE"]}
ANALYST_ONLY = {"id": "334455667788", "name": "Friend's Shop", "access_token": "EAAGpage0ZBZCfriendZD", "category": "Shop",
                "tasks": ["ANALYZE"], "instagram_business_account": {"id": "17841400000000001", "username": "friendshop"}}


def grant(*scopes: str) -> Grant:
    return Grant(access_token=LONG, expires_at=NOW + 5183944, scopes=scopes or ALL)


def me(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{GRAPH}/me", match=[matchers.query_param_matcher({"fields": "id,name", "access_token": LONG})],
               json={"id": "10160000000000001", "name": "Ada Lovelace"})


def accounts(mocked: responses.RequestsMock, pages: list[dict[str, Any]], after: str | None = None, paging: dict[str, Any] | None = None) -> None:
    params = {"fields": FIELDS, "limit": "100", "access_token": LONG, **({"after": after} if after else {})}
    body: dict[str, Any] = {"data": pages}
    if paging:
        body["paging"] = paging
    mocked.get(f"{GRAPH}/me/accounts", match=[matchers.query_param_matcher(params)], json=body)


@pytest.fixture
def facebook(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("facebook")


@pytest.fixture
def instagram(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("instagram")


def test_one_dialog_and_scope_set_for_both_platforms(facebook: Platform, instagram: Platform) -> None:
    url = facebook.authorization_url(APP, STATE, CHALLENGE)
    assert endpoint(url) == "https://www.facebook.com/v23.0/dialog/oauth"
    assert query(url) == {"response_type": "code", "client_id": APP.client_id, "redirect_uri": REDIRECT_URI, "state": STATE,
                          "scope": "pages_show_list,pages_read_engagement,pages_manage_posts,instagram_basic,instagram_content_publish"}
    assert instagram.authorization_url(APP, STATE, CHALLENGE) == url  # connecting one never narrows the other's consent


def test_code_is_traded_for_a_long_lived_token(facebook: Platform, mocked: responses.RequestsMock) -> None:
    client = {"client_id": APP.client_id, "client_secret": APP.client_secret}
    mocked.get(f"{GRAPH}/oauth/access_token", match=[matchers.query_param_matcher({**client, "redirect_uri": REDIRECT_URI, "code": CODE})],
               json={"access_token": SHORT, "token_type": "bearer", "expires_in": 5183})
    mocked.get(f"{GRAPH}/oauth/access_token", match=[matchers.query_param_matcher(
        {**client, "grant_type": "fb_exchange_token", "fb_exchange_token": SHORT})],
               json={"access_token": LONG, "token_type": "bearer", "expires_in": 5183944})
    mocked.get(f"{GRAPH}/me/permissions", match=[matchers.query_param_matcher({"access_token": LONG})], json={"data": [
        {"permission": "pages_show_list", "status": "granted"}, {"permission": "pages_read_engagement", "status": "granted"},
        {"permission": "pages_manage_posts", "status": "granted"}, {"permission": "instagram_basic", "status": "granted"},
        {"permission": "instagram_content_publish", "status": "declined"}, {"permission": "public_profile", "status": "granted"}]})
    got = facebook.exchange_code(APP, CODE, None)
    assert (got.access_token, got.expires_at, got.refresh_token) == (LONG, NOW + 5183944, None)
    assert got.scopes == ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "instagram_basic", "public_profile")


def test_used_code_is_refused_without_secrets(facebook: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{GRAPH}/oauth/access_token", status=400, json={"error": {
        "message": "This authorization code has been used.", "type": "OAuthException", "code": 100, "error_subcode": 36009,
        "fbtrace_id": "AmEZfd3vhF1SqH7xYAMTQ0J"}})
    with pytest.raises(PlatformRejected, match="has been used") as caught:
        facebook.exchange_code(APP, CODE, None)
    assert_no_secret(caught.value)


def test_facebook_offers_pages_and_their_instagram_accounts(facebook: Platform, mocked: responses.RequestsMock) -> None:
    me(mocked)
    accounts(mocked, [WIDGETS, ANALYST_ONLY], paging={"cursors": {"before": "QVFIUbefore", "after": "QVFIUafter"},
                                                       "next": f"{GRAPH}/me/accounts?after=QVFIUafter"})
    accounts(mocked, [BAKERY], after="QVFIUafter", paging={"cursors": {"before": "QVFIUafter", "after": "QVFIUend"}})
    options = facebook.connect_options(APP, grant())
    assert [(o.platform, o.kind, o.id, o.handle, o.display_name) for o in options] == [
        ("facebook", "page", "112233445566", "acmewidgets", "Acme Widgets"),
        ("instagram", "instagram_business", "17841400008460056", "acmewidgets", "Acme Widgets"),
        ("facebook", "page", "223344556677", "223344556677", "Dodo Bakery"),
    ]  # the Page where the user is only an analyst cannot be posted to
    assert options[0].credentials == {"access_token": PAGE_TOKEN, "page_id": "112233445566"}
    assert options[1].credentials == {"access_token": PAGE_TOKEN, "ig_user_id": "17841400008460056"}
    assert {o.external_user_id for o in options} == {"10160000000000001"}
    assert {o.expires_at for o in options} == {None}  # Page tokens from a long-lived user token do not expire


def test_page_option_publishes(facebook: Platform, mocked: responses.RequestsMock) -> None:
    me(mocked)
    accounts(mocked, [BAKERY])
    [option] = facebook.connect_options(APP, grant())
    mocked.post(f"{GRAPH}/223344556677/feed", match=[matchers.urlencoded_params_matcher(
        {"message": "Fresh bread", "fields": "id,permalink_url", "access_token": OTHER_PAGE_TOKEN})],
        json={"id": "223344556677_1116689038356556", "permalink_url": "https://www.facebook.com/223344556677/posts/1116689038356556"})
    account = Account(id="acct_1", platform=option.platform, handle=option.handle, credentials=dict(option.credentials))
    assert facebook.publish(account, PublishRequest("tgt_1", "Fresh bread")).platform_post_id == "223344556677_1116689038356556"


def test_instagram_offers_only_business_accounts(instagram: Platform, mocked: responses.RequestsMock) -> None:
    me(mocked)
    accounts(mocked, [WIDGETS, BAKERY])
    [option] = instagram.connect_options(APP, grant())
    assert (option.platform, option.kind, option.id, option.handle) == ("instagram", "instagram_business", "17841400008460056", "acmewidgets")


def test_declined_instagram_permission(facebook: Platform, instagram: Platform, mocked: responses.RequestsMock) -> None:
    pages_only = grant("pages_show_list", "pages_read_engagement", "pages_manage_posts", "instagram_basic")
    with pytest.raises(PlatformAuthError, match="instagram_content_publish") as caught:
        instagram.connect_options(APP, pages_only)
    assert caught.value.code == "missing_scopes"
    assert_no_secret(caught.value, LONG)
    me(mocked)
    accounts(mocked, [WIDGETS])
    assert [o.kind for o in facebook.connect_options(APP, pages_only)] == ["page"]  # Facebook still works


def test_no_page_shared_with_the_app(facebook: Platform, mocked: responses.RequestsMock) -> None:
    me(mocked)
    accounts(mocked, [])
    with pytest.raises(PlatformRejected, match="manages no Page that was shared with this app") as caught:
        facebook.connect_options(APP, grant())
    assert caught.value.code == "no_targets"


def test_expired_user_token_in_the_picker(facebook: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{GRAPH}/me", status=400, json={"error": {
        "message": "Error validating access token: Session has expired on Friday, 21-Aug-26 10:00:00 PDT.",
        "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "A1b2C3"}})
    with pytest.raises(PlatformAuthError, match="Session has expired") as caught:
        facebook.connect_options(APP, grant())
    assert_no_secret(caught.value, LONG)
