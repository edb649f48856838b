"""LinkedIn connect: OpenID member plus the organizations the member administers (Community Management)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import responses
from responses import matchers

from postdodo_connect.errors import PlatformAuthError, PlatformRejected
from postdodo_connect.platforms import Account, PublishRequest
from postdodo_connect.platforms.base import Platform
from postdodo_connect.platforms.oauth import Grant

from ..conftest import NOW
from .conftest import APP, CHALLENGE, CODE, REDIRECT_URI, STATE, assert_no_secret, endpoint, query, with_options

API = "https://api.linkedin.com"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
TOKEN = "AQUvlL_DYEzvT2wz1QJiEPeLioeA-member-token"
REST = {"Authorization": f"Bearer {TOKEN}", "LinkedIn-Version": "202601", "X-Restli-Protocol-Version": "2.0.0"}
USERINFO = {"sub": "782bbtaQ", "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
            "picture": "https://media.licdn.com/dms/image/C4E03AQ/profile.jpg", "locale": "en-US", "email_verified": True}
ORG_SCOPES = "openid,profile,w_member_social,w_organization_social,rw_organization_admin"


@pytest.fixture
def adapter(make_adapter: Callable[[str], Platform]) -> Platform:
    return make_adapter("linkedin")


def grant(scope: str = "openid,profile,w_member_social") -> Grant:
    return Grant(access_token=TOKEN, expires_at=NOW + 5184000, scopes=tuple(scope.split(",")),
                 raw={"access_token": TOKEN, "expires_in": 5184000, "scope": scope})


def userinfo(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/v2/userinfo", match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})], json=USERINFO)


def test_authorize_url_asks_member_scopes_without_pkce(adapter: Platform) -> None:
    url = adapter.authorization_url(APP, STATE, CHALLENGE)
    assert endpoint(url) == "https://www.linkedin.com/oauth/v2/authorization"
    # no code_challenge: LinkedIn has PKCE only for native apps it enabled on request
    assert query(url) == {"response_type": "code", "client_id": APP.client_id, "redirect_uri": REDIRECT_URI,
                          "state": STATE, "scope": "openid profile w_member_social"}


def test_authorize_url_asks_organization_scopes_when_the_session_says_so(adapter: Platform) -> None:
    scope = query(adapter.authorization_url(with_options(organizations=True), STATE, None))["scope"]
    assert scope == "openid profile w_member_social w_organization_social rw_organization_admin"


def test_code_exchange_sends_the_secret_in_the_form(adapter: Platform, mocked: responses.RequestsMock) -> None:
    form = {"grant_type": "authorization_code", "code": CODE, "redirect_uri": REDIRECT_URI,
            "client_id": APP.client_id, "client_secret": APP.client_secret}
    mocked.post(TOKEN_URL, match=[matchers.urlencoded_params_matcher(form)],
                json={"access_token": TOKEN, "expires_in": 5184000, "scope": "openid,profile,w_member_social"})
    got = adapter.exchange_code(APP, CODE, "verifier-never-sent")
    assert "Authorization" not in mocked.calls[0].request.headers
    assert (got.access_token, got.expires_at, got.refresh_token) == (TOKEN, NOW + 5184000, None)
    assert got.scopes == ("openid", "profile", "w_member_social")


def test_refused_code_is_a_platform_error_without_secrets(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.post(TOKEN_URL, status=400, json={
        "error": "invalid_request",
        "error_description": "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. "
                             "Or authorization code expired. Or external member binding exists"})
    with pytest.raises(PlatformRejected, match="authorization code expired") as caught:
        adapter.exchange_code(APP, CODE, None)
    assert_no_secret(caught.value)


def test_member_option_publishes_as_the_person(adapter: Platform, mocked: responses.RequestsMock) -> None:
    userinfo(mocked)
    [option] = adapter.connect_options(APP, grant())
    assert (option.id, option.kind, option.handle, option.display_name) == ("urn:li:person:782bbtaQ", "user", "Ada Lovelace", "Ada Lovelace")
    assert (option.external_user_id, option.expires_at) == ("782bbtaQ", NOW + 5184000)
    assert option.credentials == {"access_token": TOKEN, "author_urn": "urn:li:person:782bbtaQ", "expires_at": int(NOW + 5184000)}
    # the credentials are all `publish` needs
    mocked.post(f"{API}/rest/posts", match=[matchers.header_matcher(REST), matchers.json_params_matcher(
        {"author": "urn:li:person:782bbtaQ"}, strict_match=False)], status=201, headers={"x-restli-id": "urn:li:share:7141138937766391808"})
    account = Account(id="acct_1", platform="linkedin", handle=option.handle, credentials=dict(option.credentials))
    assert adapter.publish(account, PublishRequest("tgt_1", "Hello")).platform_post_id == "urn:li:share:7141138937766391808"


def test_organizations_the_member_administers(adapter: Platform, mocked: responses.RequestsMock) -> None:
    userinfo(mocked)
    acls = {"paging": {"start": 0, "count": 100, "links": []}, "elements": [
        {"organization": "urn:li:organization:2414183", "role": "ADMINISTRATOR", "roleAssignee": "urn:li:person:782bbtaQ", "state": "APPROVED"},
        {"organization": "urn:li:organization:5515715", "role": "ANALYST", "roleAssignee": "urn:li:person:782bbtaQ", "state": "APPROVED"},
        {"organization": "urn:li:organization:1000", "role": "CONTENT_ADMINISTRATOR", "roleAssignee": "urn:li:person:782bbtaQ", "state": "APPROVED"},
    ]}
    mocked.get(f"{API}/rest/organizationAcls", json=acls, match=[matchers.header_matcher(REST), matchers.query_param_matcher(
        {"q": "roleAssignee", "state": "APPROVED", "start": "0", "count": "100"})])
    mocked.get(f"{API}/rest/organizations/2414183", match=[matchers.header_matcher(REST)],
               json={"id": 2414183, "localizedName": "Acme Widgets", "vanityName": "acme-widgets", "primaryOrganizationType": "NONE"})
    mocked.get(f"{API}/rest/organizations/1000", match=[matchers.header_matcher(REST)],
               json={"id": 1000, "localizedName": "Dodo Labs", "vanityName": "dodolabs"})
    options = adapter.connect_options(APP, grant(ORG_SCOPES))
    assert [(o.id, o.kind, o.handle, o.display_name) for o in options] == [
        ("urn:li:person:782bbtaQ", "user", "Ada Lovelace", "Ada Lovelace"),
        ("urn:li:organization:2414183", "organization", "acme-widgets", "Acme Widgets"),
        ("urn:li:organization:1000", "organization", "dodolabs", "Dodo Labs"),
    ]  # the analyst role cannot post: not offered
    assert {o.external_user_id for o in options} == {"782bbtaQ"}  # a reconnect of any of them must be Ada
    assert options[1].credentials["author_urn"] == "urn:li:organization:2414183"


def test_organization_scopes_with_no_organization_leave_the_member(adapter: Platform, mocked: responses.RequestsMock) -> None:
    userinfo(mocked)
    mocked.get(f"{API}/rest/organizationAcls", json={"paging": {"start": 0, "count": 100, "links": []}, "elements": []})
    assert [o.kind for o in adapter.connect_options(APP, grant(ORG_SCOPES))] == ["user"]


def test_missing_posting_scope_is_refused_before_any_call(adapter: Platform, mocked: responses.RequestsMock) -> None:
    with pytest.raises(PlatformAuthError, match="w_member_social") as caught:
        adapter.connect_options(APP, grant("openid,profile"))
    assert caught.value.code == "missing_scopes"
    assert_no_secret(caught.value, TOKEN)


def test_revoked_token_in_the_picker(adapter: Platform, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{API}/v2/userinfo", status=401, json={
        "status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN", "message": "The token used in the request has been revoked by the user"})
    with pytest.raises(PlatformAuthError, match="revoked") as caught:
        adapter.connect_options(APP, grant())
    assert_no_secret(caught.value, TOKEN)


def test_organization_acls_are_read_page_by_page(adapter: Platform, mocked: responses.RequestsMock) -> None:
    userinfo(mocked)
    analyst = [{"organization": f"urn:li:organization:{9000 + i}", "role": "ANALYST", "state": "APPROVED"} for i in range(100)]
    for start, elements in (("0", analyst), ("100", [{"organization": "urn:li:organization:2414183", "role": "ADMINISTRATOR", "state": "APPROVED"}])):
        mocked.get(f"{API}/rest/organizationAcls", json={"paging": {"start": int(start), "count": 100}, "elements": elements},
                   match=[matchers.query_param_matcher({"q": "roleAssignee", "state": "APPROVED", "start": start, "count": "100"})])
    mocked.get(f"{API}/rest/organizations/2414183", json={"id": 2414183, "localizedName": "Acme Widgets", "vanityName": "acme-widgets"})
    assert [o.id for o in adapter.connect_options(APP, grant(ORG_SCOPES))][1:] == ["urn:li:organization:2414183"]
