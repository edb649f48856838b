"""LinkedIn (versioned REST Posts API): image upload, POST /rest/posts, id from `x-restli-id`; connect as member or organization."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import requests

from .base import (
    Account,
    Media,
    Platform,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    Profile,
    Published,
    PublishRequest,
    error_body,
    seed_digits,
)
from .grants import nothing_to_connect, require_scopes, token_fields
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec, Refreshed

API = "https://api.linkedin.com"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
#: YYYYMM; versions are sunset about a year after release, so an account setting may override it
VERSION = "202601"
# "little text format": these characters must be backslash-escaped or LinkedIn silently cuts the
# commentary at the first unescaped one
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
_POST_URN = re.compile(r"urn:li:(?:share|ugcPost):\d+")
#: products "Sign In with LinkedIn using OpenID Connect" and "Share on LinkedIn" (self-serve)
MEMBER_SCOPES = ("openid", "profile", "w_member_social")
#: product "Community Management API" (vetted): post as, and list, the organizations a member runs
ORGANIZATION_SCOPES = ("w_organization_social", "rw_organization_admin")
#: organization roles allowed to create organic posts
POSTING_ROLES = frozenset({"ADMINISTRATOR", "CONTENT_ADMINISTRATOR"})
#: organizationAcls page size, and how many pages we read at most
ACL_PAGE = 100
ACL_PAGES = 10


def escape(text: str) -> str:
    """Commentary with every little-text-format reserved character escaped."""
    return _RESERVED.sub(r"\\\1", text)


class LinkedIn(Platform):
    """LinkedIn posts: 3000 characters (escaped), up to 20 images."""

    name = "linkedin"
    label = "LinkedIn"
    max_caption = 3000
    max_alt: ClassVar[int] = 4086  # alt text, per media item
    max_media = 20
    can_delete = True
    has_first_comment = True
    media_kinds = frozenset({"image"})
    # No lookup call: after an ambiguous create the retry itself reconciles, because LinkedIn
    # refuses the same content again with 422 DUPLICATE_POST naming the existing post's URN.
    has_lookup = False
    # a repeated create is refused as DUPLICATE_POST naming the existing URN (reported to last a day or two;
    # counted as one hour here), so an interrupted create within the hour is simply sent again
    idempotency_horizon = 3600.0
    credential_fields = ("access_token", "author_urn")
    # LinkedIn documents a pixel cap (36 Mpx), not a byte cap; 20 MB is our own guard
    media_max_bytes: ClassVar[dict[str, int]] = {"image": 20 * 1024 * 1024}
    media_types: ClassVar[dict[str, frozenset[str]]] = {"image": frozenset({"image/jpeg", "image/png", "image/gif"})}

    caption_unit = "characters once escaped"
    # LinkedIn has PKCE only for native apps it enabled on request: a server uses its client secret
    oauth = OAuthSpec(authorize_url="https://www.linkedin.com/oauth/v2/authorization",
                      token_url="https://www.linkedin.com/oauth/v2/accessToken",
                      scopes=MEMBER_SCOPES, pkce=False, client_auth="body")

    def caption_length(self, caption: str) -> int:
        """Characters of the commentary as sent, i.e. after escaping."""
        return len(escape(caption))

    def permalink(self, handle: str, post_id: str) -> str:
        """`https://www.linkedin.com/feed/update/{urn}/`."""
        return f"https://www.linkedin.com/feed/update/{post_id}/"

    def sample_post_id(self, seed: str) -> str:
        """A share URN with a 19-digit id."""
        return f"urn:li:share:{seed_digits(seed, 19)}"

    # -- live calls ------------------------------------------------------------------------------

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """GET /v2/userinfo (OpenID Connect): `sub` is the member id, `name` the display name."""
        me = self._userinfo(credentials)
        return Profile(handle=me.get("name") or me["sub"], display_name=me.get("name", ""))

    def comment(self, account: Account, platform_post_id: str, text: str) -> Published:
        """POST /rest/socialActions/{urn}/comments as the post's author; the comment URN in `x-restli-id`."""
        creds = account.credentials
        actor = creds.get("author_urn") or f"urn:li:person:{self._userinfo(creds)['sub']}"
        body = {"actor": actor, "object": platform_post_id, "message": {"text": text}}
        response = self.call("POST", f"{API}/rest/socialActions/{quote(platform_post_id, safe='')}/comments",
                             json=body, headers=_rest_headers(account))
        answer = error_body(response)
        urn = response.headers.get("x-restli-id") or (answer.get("commentUrn") if isinstance(answer, dict) else None)
        return Published(platform_post_id=str(urn or ""), permalink="")

    def delete(self, account: Account, platform_post_id: str) -> None:
        """DELETE /rest/posts/{url-encoded urn} (204 No Content)."""
        self.call("DELETE", f"{API}/rest/posts/{quote(platform_post_id, safe='')}", headers=_rest_headers(account))

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Upload images, then create the post; its URN comes back in `x-restli-id`."""
        creds = account.credentials
        # without an explicit author (e.g. an organization) the token's own member posts
        author = creds.get("author_urn") or f"urn:li:person:{self._userinfo(creds)['sub']}"
        body: dict[str, Any] = {
            "author": author,
            "commentary": escape(request.caption),
            "visibility": request.options.get("visibility") or account.settings.get("visibility", "PUBLIC"),
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        images: list[str] = list(request.state.get("images") or ())  # uploaded by an earlier attempt
        for item in request.media[len(images):]:
            images.append(self._upload(account, author, item))
            request.save(images=images)
        alts = [item.alt for item in request.media]
        if len(images) == 1:
            body["content"] = {"media": {"id": images[0], **({"altText": alts[0]} if alts[0] else {})}}
        elif images:
            body["content"] = {"multiImage": {"images": [{"id": urn, **({"altText": alt} if alt else {})}
                                                         for urn, alt in zip(images, alts, strict=True)]}}
        # creates=False on purpose: a retry after a timeout or 5xx is answered with DUPLICATE_POST
        # and the URN (below), so the ambiguity resolves itself instead of needing a lookup
        headers = _rest_headers(account)
        try:
            self.calling(request)
            response = self.call("POST", f"{API}/rest/posts", json=body, headers=headers)
        except PlatformRejected as exc:
            urn = _duplicate_of(exc.platform_error)
            if urn and request.attempt > 1:
                return Published(platform_post_id=urn, permalink=self.permalink(account.handle, urn))
            raise
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:  # created but unnamed: the retry's DUPLICATE_POST will name it
            raise PlatformUnavailable("LinkedIn answered without the post's URN", code="platform_unavailable")
        return Published(platform_post_id=urn, permalink=self.permalink(account.handle, urn))

    # -- connect ---------------------------------------------------------------------------------

    def authorization_url(self, app: ClientApp, state: str, code_challenge: str | None) -> str:
        """The consent URL; `options.organizations` also asks for the organization scopes."""
        scopes = MEMBER_SCOPES + ORGANIZATION_SCOPES if app.options.get("organizations") else MEMBER_SCOPES
        params = {"response_type": "code", "client_id": app.client_id, "redirect_uri": app.redirect_uri,
                  "state": state, "scope": " ".join(scopes)}
        return f"{self._spec().authorize_url}?{urlencode(params)}"

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """The member (with w_member_social) and every organization they administer (with w_organization_social)."""
        # LinkedIn always answers `scope`; all-or-nothing, but an app without a product gets fewer
        if "w_organization_social" not in grant.scopes:
            require_scopes("LinkedIn", grant, ("w_member_social",))
        me = self._userinfo({"access_token": grant.access_token})
        member = str(me["sub"])
        kept = token_fields(grant)
        options: list[ConnectOption] = []
        if "w_member_social" in grant.scopes:
            urn = f"urn:li:person:{member}"
            options.append(ConnectOption(
                id=urn, handle=str(me.get("name") or member), display_name=str(me.get("name") or ""),
                external_user_id=member, kind="user", expires_at=grant.expires_at,
                credentials={"access_token": grant.access_token, "author_urn": urn, **kept}))
        if "w_organization_social" in grant.scopes:
            for urn in self._administered(grant.access_token):
                org = self.call("GET", f"{API}/rest/organizations/{urn.rpartition(':')[2]}",
                                headers=_token_headers(grant.access_token)).json()
                name = str(org.get("localizedName") or urn)
                options.append(ConnectOption(
                    id=urn, handle=str(org.get("vanityName") or name), display_name=name,
                    external_user_id=member, kind="organization", expires_at=grant.expires_at,
                    credentials={"access_token": grant.access_token, "author_urn": urn, **kept}))
        if not options:
            raise nothing_to_connect("LinkedIn", "this member administers no organization to post as")
        return options

    def _administered(self, token: str) -> list[str]:
        """URNs of the organizations the token's member may post as (approved admin roles), in ACL order."""
        urns: list[str] = []
        for page in range(ACL_PAGES):
            params = {"q": "roleAssignee", "state": "APPROVED", "start": page * ACL_PAGE, "count": ACL_PAGE}
            body = self.call("GET", f"{API}/rest/organizationAcls", params=params, headers=_token_headers(token)).json()
            elements = body.get("elements") or []
            for acl in elements:
                if acl.get("role") in POSTING_ROLES and acl.get("organization") not in urns:
                    urns.append(str(acl["organization"]))
            if len(elements) < ACL_PAGE:
                break
        return urns

    # -- plumbing --------------------------------------------------------------------------------

    def _userinfo(self, creds: dict[str, Any]) -> dict[str, Any]:
        """The token's member (OpenID userinfo)."""
        me: dict[str, Any] = self.call("GET", f"{API}/v2/userinfo", headers=_auth(creds)).json()
        return me

    def _upload(self, account: Account, owner: str, item: Media) -> str:
        """initializeUpload, then one PUT of the bytes (chunking corrupts larger images)."""
        data, content_type = self.fetch_media(account, item)
        init = {"initializeUploadRequest": {"owner": owner}}
        value = self.call("POST", f"{API}/rest/images", params={"action": "initializeUpload"},
                          json=init, headers=_rest_headers(account)).json()["value"]
        self.call("PUT", value["uploadUrl"], data=data,
                  headers={**_auth(account.credentials), "Content-Type": content_type})
        return str(value["image"])

    def classify(self, response: requests.Response, *, creates: bool = False) -> PlatformError:
        """Duplicates keep their URN in `platform_error`; daily throttles reset at midnight UTC."""
        message = f"LinkedIn: {self.error_message(response)}"
        body = error_body(response)
        if response.status_code == 429:
            return PlatformRateLimited(message, code="rate_limited", retry_after=self.retry_after(response), platform_error=body)
        if response.status_code == 422 and _duplicate_of(body):
            return PlatformRejected(message, code="duplicate_post", platform_error=body)
        return super().classify(response, creates=creates)

    def retry_after(self, response: requests.Response) -> float | None:
        """LinkedIn sends no hint; its daily quotas reset at 00:00 UTC."""
        return self.seconds_until_utc_midnight()

    # -- token lifecycle: 60-day tokens; refresh tokens only for approved partner apps, not rotated ---

    refresh_ahead: ClassVar[float] = 7 * 86400.0

    def can_refresh(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> bool:
        """Only where LinkedIn granted a refresh token, with our app's id and secret."""
        app = self.refresh_client(credentials, client)
        return bool(credentials.get("refresh_token") and app and app.client_secret)

    def refresh_credentials(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> Refreshed:
        """POST /oauth/v2/accessToken grant_type=refresh_token, client id and secret in the form."""
        return self.refresh_grant(TOKEN_URL, credentials, self.refresh_client(credentials, client), client_auth="body")


def _auth(creds: dict[str, Any]) -> dict[str, str]:
    """The OAuth 2.0 bearer header."""
    return {"Authorization": f"Bearer {creds.get('access_token', '')}"}


def _token_headers(token: str) -> dict[str, str]:
    """Versioned /rest/ read headers for a token that has no account yet (the connect picker)."""
    return {"Authorization": f"Bearer {token}", "LinkedIn-Version": VERSION, "X-Restli-Protocol-Version": "2.0.0"}


def _rest_headers(account: Account) -> dict[str, str]:
    """Headers every versioned /rest/ call needs."""
    return {
        **_auth(account.credentials),
        "LinkedIn-Version": str(account.settings.get("linkedin_version", VERSION)),
        "X-Restli-Protocol-Version": "2.0.0",
        "Content-Type": "application/json",
    }


def _duplicate_of(body: Any) -> str | None:
    """The existing post's URN of a DUPLICATE_POST refusal, if that is what `body` is."""
    if not isinstance(body, dict) or "DUPLICATE_POST" not in str(body.get("errorDetails", "")):
        return None
    match = _POST_URN.search(str(body.get("message", "")))
    return match.group(0) if match else None
