"""Pinterest pins through API v5; connecting picks the board pins go to."""

from __future__ import annotations

from typing import Any, ClassVar

from .base import Account, Platform, PlatformRejected, Profile, Published, PublishRequest
from .grants import nothing_to_connect, require_scopes, token_fields
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec
from .reconcile import same_text, seed_digits
from .text import find_urls

MAX_LINK = 2048
#: /v5/boards answers at most 250 boards a page; more pages than this is not one person's account
BOARD_PAGE = 250
BOARD_PAGES = 20


class Pinterest(Platform):
    """Pinterest: one image pin per post; the caption is the description, its first URL the pin's link."""

    name: ClassVar[str] = "pinterest"
    label: ClassVar[str] = "Pinterest"
    max_caption: ClassVar[int] = 800  # PinCreate.description
    max_alt: ClassVar[int] = 500  # alt text, per media item
    max_media: ClassVar[int] = 1
    can_delete: ClassVar[bool] = True
    # video pins need a byte upload through /v5/media first; only image URLs are published here
    media_kinds: ClassVar[frozenset[str]] = frozenset({"image"})
    requires_media: ClassVar[bool] = True
    has_lookup: ClassVar[bool] = True
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token", "board_id")
    api_url: ClassVar[str] = "https://api.pinterest.com/v5"
    # pins:read is for `lookup`; the OpenAPI document names no PKCE, so the app secret (HTTP Basic) it is
    oauth = OAuthSpec(authorize_url="https://www.pinterest.com/oauth/", token_url="https://api.pinterest.com/v5/oauth/token",
                      scopes=("boards:read", "pins:read", "pins:write", "user_accounts:read"), pkce=False, scope_separator=",")

    def permalink(self, handle: str, post_id: str) -> str:
        """https://www.pinterest.com/pin/<id>/."""
        return f"https://www.pinterest.com/pin/{post_id}/"

    def sample_post_id(self, seed: str) -> str:
        """An 18-digit pin id like 813744226420795884."""
        return "8" + seed_digits(seed, 17)

    def api(self, token: str, method: str, path: str, *, creates: bool = False, **kwargs: Any) -> dict[str, Any]:
        """One v5 request with the bearer token; errors (`{"code", "message"}`) classify by status."""
        headers = {"Authorization": f"Bearer {token}"}
        return self.json(self.call(method, f"{self.api_url}/{path}", creates=creates, headers=headers, **kwargs), creates=creates)

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """The token's user account."""
        me = self.api(self.credential(credentials, "access_token"), "GET", "user_account")
        return Profile(handle=str(me.get("username") or ""), display_name=str(me.get("business_name") or me.get("username") or ""))

    def delete(self, account: Account, platform_post_id: str) -> None:
        """DELETE /v5/pins/{pin_id} (204 No Content)."""
        token = self.credential(account.credentials, "access_token")
        self.call("DELETE", f"{self.api_url}/pins/{platform_post_id}", headers={"Authorization": f"Bearer {token}"})

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """POST /pins with the image URL; Pinterest fetches the image itself."""
        if not request.media:
            raise PlatformRejected("Pinterest cannot publish a pin without an image", code="media_required")
        token = self.credential(account.credentials, "access_token")
        options = request.options
        board_id = self.board(account, request)
        pin: dict[str, Any] = {
            "board_id": board_id,
            "description": request.caption,
            "media_source": {"source_type": "image_url", "url": request.media[0].url},
        }
        links = [url for url in find_urls(request.caption, bare=False) if len(url) <= MAX_LINK]
        if options.get("link") or links:  # the pin clicks through to it (else to what the caption points at)
            pin["link"] = options.get("link") or links[0]
        if options.get("title"):
            pin["title"] = options["title"]
        if request.media[0].alt:
            pin["alt_text"] = request.media[0].alt
        self.calling(request)
        created = self.api(token, "POST", "pins", json=pin, creates=True)
        return Published(platform_post_id=str(created["id"]), permalink=self.permalink(account.handle, str(created["id"])))

    def board(self, account: Account, request: PublishRequest) -> str:
        """The board a pin goes to: the post's `board_id` option, else the one chosen at connect."""
        return str(request.options.get("board_id") or self.credential(account.credentials, "board_id"))

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """The newest pins of the board the pin went to with this description (the API has no idempotency key)."""
        token, board_id = self.credential(account.credentials, "access_token"), self.board(account, request)
        listing = self.api(token, "GET", f"boards/{board_id}/pins", params={"page_size": 25})
        for pin in listing.get("items") or []:
            if same_text(pin.get("description"), request.caption) and self.matches_time(request, pin.get("created_at")):
                return Published(platform_post_id=str(pin["id"]), permalink=self.permalink(account.handle, str(pin["id"])))
        return None

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """One option per board the user can pin to (secret boards need boards:read_secret and are not listed)."""
        require_scopes(self.label, grant, ("boards:read", "pins:write", "user_accounts:read"))
        me = self.api(grant.access_token, "GET", "user_account")
        username = str(me.get("username") or "")
        user = str(me.get("id") or username)
        options: list[ConnectOption] = []
        bookmark: str | None = None
        for _ in range(BOARD_PAGES):
            params: dict[str, Any] = {"page_size": BOARD_PAGE, **({"bookmark": bookmark} if bookmark else {})}
            listing = self.api(grant.access_token, "GET", "boards", params=params)
            for board in listing.get("items") or []:
                board_id = str(board["id"])
                options.append(ConnectOption(
                    id=board_id, handle=username or board_id, display_name=str(board.get("name") or board_id),
                    external_user_id=user, kind="board", expires_at=grant.expires_at,
                    credentials={"access_token": grant.access_token, "board_id": board_id, **token_fields(grant)}))
            bookmark = listing.get("bookmark") or None
            if not bookmark:
                break
        if not options:
            raise nothing_to_connect(self.label, "this account has no board to pin to: create one on Pinterest first")
        return options
