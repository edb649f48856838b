"""Facebook Login for Pages and their Instagram business accounts: one grant, both platforms' accounts.

The code is traded for a short-lived user token, that for a long-lived one (about 60 days), and the Pages
are read with it: Page tokens obtained from a long-lived user token do not expire, so the accounts keep
working after the user token is gone. Each Page's linked Instagram business account publishes with its
Page's token.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .grants import nothing_to_connect, refused, require_scopes
from .graph import GraphPlatform
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec

GRAPH_VERSION = "v23.0"
#: one scope set for both platforms, so connecting one never invalidates the other's consent
SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "instagram_basic", "instagram_content_publish")
PAGE_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts")
INSTAGRAM_SCOPES = ("pages_show_list", "pages_read_engagement", "instagram_basic", "instagram_content_publish")
PAGE_FIELDS = "id,name,username,access_token,tasks,instagram_business_account{id,username,name}"
#: /me/accounts pages of 100 Pages; more than this many pages is not a person's account
MAX_PAGES = 20


class MetaLogin(GraphPlatform):
    """The connect half shared by the Facebook and Instagram adapters."""

    # Meta's server-side flow documents no PKCE; the client secret protects the code
    oauth = OAuthSpec(authorize_url=f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth",
                      token_url=f"https://graph.facebook.com/{GRAPH_VERSION}/oauth/access_token",
                      scopes=SCOPES, pkce=False, scope_separator=",")
    #: which targets a session of this platform offers: "page", "instagram_business"
    connect_kinds: ClassVar[frozenset[str]] = frozenset()

    def exchange_code(self, app: ClientApp, code: str, code_verifier: str | None) -> Grant:
        """Code → short-lived user token → long-lived user token; the granted permissions read back."""
        spec = self._spec()
        client = {"client_id": app.client_id, "client_secret": app.client_secret}
        short = self._token(spec.token_url, {**client, "redirect_uri": app.redirect_uri, "code": code})
        long = self._token(spec.token_url, {**client, "grant_type": "fb_exchange_token", "fb_exchange_token": short["access_token"]})
        # Meta's token answers name no scopes, and people can untick permissions in the dialog
        listing = self.graph(str(long["access_token"]), "GET", "me/permissions")
        granted = ",".join(str(p.get("permission")) for p in listing.get("data") or [] if p.get("status") == "granted")
        return self.grant_from({**long, "scope": granted})

    def _token(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        """One oauth/access_token call (a GET, as Meta documents it); an answer without a token is refused."""
        body = self.json(self.call("GET", url, params=params))
        if not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise refused(self.label, "no_access_token", "Meta answered without an access token")
        return body

    def missing_scopes(self, grant: Grant) -> list[str]:
        """Only what this session's targets need: a Facebook session without Instagram's permissions still has Pages."""
        needed = PAGE_SCOPES if "page" in self.connect_kinds else INSTAGRAM_SCOPES
        return [scope for scope in needed if grant.scopes and scope not in grant.scopes]

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """Every Page the user may post to and every Instagram business account linked to one."""
        wants_pages = "page" in self.connect_kinds
        require_scopes(self.label, grant, PAGE_SCOPES if wants_pages else INSTAGRAM_SCOPES)
        me = self.graph(grant.access_token, "GET", "me", {"fields": "id,name"})
        user = str(me["id"])
        with_instagram = "instagram_business" in self.connect_kinds and "instagram_content_publish" in grant.scopes
        options: list[ConnectOption] = []
        for page in self._pages(grant.access_token):
            tasks = page.get("tasks")
            if isinstance(tasks, list) and "CREATE_CONTENT" not in tasks:
                continue  # a role without CREATE_CONTENT cannot publish (e.g. analysts)
            token, page_id = str(page["access_token"]), str(page["id"])
            if wants_pages:
                options.append(ConnectOption(
                    id=page_id, handle=str(page.get("username") or page_id), display_name=str(page.get("name") or ""),
                    external_user_id=user, credentials={"access_token": token, "page_id": page_id},
                    kind="page", platform="facebook"))
            instagram = page.get("instagram_business_account")
            if with_instagram and isinstance(instagram, dict) and instagram.get("id"):
                ig_id = str(instagram["id"])
                handle = str(instagram.get("username") or ig_id)
                options.append(ConnectOption(
                    id=ig_id, handle=handle, display_name=str(instagram.get("name") or handle),
                    external_user_id=user, credentials={"access_token": token, "ig_user_id": ig_id},
                    kind="instagram_business", platform="instagram"))
        if not options:
            what = "Page" if wants_pages else "Instagram business account linked to a Page"
            raise nothing_to_connect(self.label, f"the Facebook user manages no {what} that was shared with this app")
        return options

    def _pages(self, token: str) -> list[dict[str, Any]]:
        """/me/accounts with each Page's token and linked Instagram account, every page of results."""
        body = self.graph(token, "GET", "me/accounts", {"fields": PAGE_FIELDS, "limit": 100})
        pages = list(body.get("data") or [])
        for _ in range(MAX_PAGES):
            after = (body.get("paging") or {}).get("cursors", {}).get("after")
            if not (body.get("paging") or {}).get("next") or not after:
                break
            body = self.graph(token, "GET", "me/accounts", {"fields": PAGE_FIELDS, "limit": 100, "after": after})
            pages += body.get("data") or []
        return [page for page in pages if page.get("id") and page.get("access_token")]


__all__ = ["SCOPES", "MetaLogin"]
