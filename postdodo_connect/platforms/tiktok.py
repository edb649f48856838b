"""TikTok through the Content Posting API (direct post, media pulled from URLs); Login Kit v2 to connect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import requests

from ..errors import PlatformError
from .base import (
    Account,
    Media,
    OutcomeUnknown,
    PlatformRateLimited,
    PlatformRejected,
    Profile,
    Published,
    PublishRequest,
    error_body,
)
from .grants import refused, require_scopes, token_fields
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec
from .plumbing import seed_digits
from .support import Adapter
from .text import utf16_units

# TikTok's per-creator daily cap: try again tomorrow rather than fail
DAILY_CAP_ERRORS = frozenset({"spam_risk_too_many_posts", "spam_risk_too_many_pending_share"})
DAY = 86400.0
#: what an unaudited client may post (and only to private accounts): the default until told otherwise
PRIVATE = "SELF_ONLY"


class TikTok(Adapter):
    """TikTok: one video (title ≤2,200) or up to 35 photos (description ≤4,000), UTF-16 units."""

    name: ClassVar[str] = "tiktok"
    label: ClassVar[str] = "TikTok"
    max_caption: ClassVar[int] = 2200  # video title
    max_photo_caption: ClassVar[int] = 4000  # photo post description
    max_media: ClassVar[int] = 35
    requires_media: ClassVar[bool] = True
    video_alone: ClassVar[bool] = True  # one video, or photos only
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token",)
    api_url: ClassVar[str] = "https://open.tiktokapis.com/v2"
    #: status/fetch allows 30 calls a minute per token; videos take a while to pull and process
    poll_interval: ClassVar[float] = 5.0
    poll_attempts: ClassVar[int] = 24

    caption_unit = "UTF-16 units"
    # the web flow of Login Kit has no PKCE (TikTok requires it only of desktop and mobile apps)
    oauth = OAuthSpec(authorize_url="https://www.tiktok.com/v2/auth/authorize/", token_url="https://open.tiktokapis.com/v2/oauth/token/",
                      scopes=("user.info.basic", "video.publish"), pkce=False, scope_separator=",",
                      client_auth="body", client_id_param="client_key")

    def caption_length(self, caption: str) -> int:
        """TikTok counts UTF-16 code units."""
        return utf16_units(caption)

    def caption_limit(self, media: Sequence[Media]) -> int:
        """A photo post's caption is its description; a video's is its title."""
        return self.max_photo_caption if media and all(item.type == "image" for item in media) else self.max_caption

    def permalink(self, handle: str, post_id: str) -> str:
        """https://www.tiktok.com/@<handle>/video/<id>."""
        return f"https://www.tiktok.com/@{handle.lstrip('@')}/video/{post_id}"

    def sample_post_id(self, seed: str) -> str:
        """A 19-digit post id like 7391040583739003000."""
        return "7" + seed_digits(seed, 18)

    def error_message(self, response: requests.Response) -> str:
        """TikTok nests its words in `error`: message and the string code."""
        body = error_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code"):
            return f"{error.get('message') or error['code']} ({error['code']})"
        return super().error_message(response)

    def classify(self, response: requests.Response, *, creates: bool = False) -> PlatformError:
        """The daily posting cap is a 403 that clears tomorrow; every other code follows its status."""
        body = error_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") in DAILY_CAP_ERRORS:
            return PlatformRateLimited(f"TikTok: {self.error_message(response)}", code="publish_limit", retry_after=DAY, platform_error=body)
        return super().classify(response, creates=creates)

    def api(self, token: str, path: str, payload: dict[str, Any], *, creates: bool = False) -> dict[str, Any]:
        """One JSON POST; its `data` once `error.code` says "ok"."""
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=UTF-8"}
        response = self.call("POST", f"{self.api_url}/{path}", creates=creates, headers=headers, json=payload)
        body = self.json(response, creates=creates)
        if (body.get("error") or {}).get("code", "ok") != "ok":
            raise PlatformRejected(f"TikTok: {self.error_message(response)}", code="rejected", platform_error=body)
        return dict(body.get("data") or {})

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """creator_info/query: the creator the token posts as (and a scope check)."""
        info = self.api(self.credential(credentials, "access_token"), "post/publish/creator_info/query/", {})
        return Profile(handle=str(info.get("creator_username") or ""), display_name=str(info.get("creator_nickname") or ""))

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Init a direct post pulling the media from its URLs, then poll its status to the post id."""
        if not request.media:
            raise PlatformRejected("TikTok cannot publish a post without media", code="media_required")
        token = self.credential(account.credentials, "access_token")
        # unaudited apps may only post privately, so private is the default until the account says otherwise
        privacy = str(account.settings.get("privacy_level") or "SELF_ONLY")
        media = list(request.media)
        if media[0].type == "video":
            path = "post/publish/video/init/"
            payload: dict[str, Any] = {
                "post_info": {"title": request.caption, "privacy_level": privacy},
                "source_info": {"source": "PULL_FROM_URL", "video_url": media[0].url},
            }
        else:
            path = "post/publish/content/init/"
            payload = {
                "post_info": {"description": request.caption, "privacy_level": privacy, "auto_add_music": True},
                "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": [m.url for m in media]},
                "post_mode": "DIRECT_POST",
                "media_type": "PHOTO",
            }
        publish_id = str(self.api(token, path, payload, creates=True)["publish_id"])
        return self.wait_published(token, account.handle, publish_id)

    def wait_published(self, token: str, handle: str, publish_id: str) -> Published:
        """Poll status/fetch; the init already queued the post, so giving up early means "unknown"."""
        for attempt in range(self.poll_attempts + 1):
            if attempt:
                self.sleep(self.poll_interval)
            try:
                state = self.api(token, "post/publish/status/fetch/", {"publish_id": publish_id})
            except PlatformError as exc:
                if exc.retryable:
                    continue  # a throttled or failed read says nothing about the post; keep polling
                # the init was accepted, so the post may well exist whatever this read says
                raise OutcomeUnknown(f"TikTok status unreadable: {exc.message}", code="outcome_unknown",
                                     platform_error={"publish_id": publish_id, "error": exc.platform_error}) from exc
            status = state.get("status")
            if status == "FAILED":
                raise PlatformRejected(f"TikTok could not publish: {state.get('fail_reason') or 'FAILED'}", code="media_rejected", platform_error=state)
            if status in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"):
                ids = state.get("publicaly_available_post_id") or []  # sic: TikTok's spelling
                if ids:
                    return Published(platform_post_id=str(ids[0]), permalink=self.permalink(handle, str(ids[0])))
                # private posts (and posts still in moderation) have no public id: the profile stands in
                return Published(platform_post_id=publish_id, permalink=f"https://www.tiktok.com/@{handle.lstrip('@')}")
        raise OutcomeUnknown("TikTok is still processing the post", code="outcome_unknown", platform_error={"publish_id": publish_id})

    # -- connect ---------------------------------------------------------------------------------

    def exchange_code(self, app: ClientApp, code: str, code_verifier: str | None) -> Grant:
        """The token endpoint takes `client_key` and the secret in the form body, never HTTP Basic."""
        form = {"client_key": app.client_id, "client_secret": app.client_secret, "code": code,
                "grant_type": "authorization_code", "redirect_uri": app.redirect_uri}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-cache"}
        return self.grant_from(self.json(self.call("POST", self._spec().token_url, data=form, headers=headers)))

    def grant_from(self, body: Mapping[str, Any]) -> Grant:
        """TikTok may answer a refused code with an OAuth `error` in a 200; `open_id` names the user."""
        if isinstance(body.get("error"), str) and body["error"] and not body.get("access_token"):
            raise refused(self.label, str(body["error"]), str(body.get("error_description") or ""))
        if not body.get("open_id"):
            raise refused(self.label, "no_open_id", "TikTok answered without the user's open_id")
        return super().grant_from(body)

    def connect_options(self, app: ClientApp, grant: Grant) -> list[ConnectOption]:
        """One account: the creator; posts stay private (SELF_ONLY) unless `options.privacy_level` says otherwise."""
        require_scopes(self.label, grant, ("video.publish",))
        info = self.api(grant.access_token, "post/publish/creator_info/query/", {})
        privacy = str(app.options.get("privacy_level") or PRIVATE)
        offered = info.get("privacy_level_options")
        if isinstance(offered, list) and privacy not in offered:
            raise PlatformRejected(f"TikTok does not offer privacy_level {privacy} to this creator (offered: {', '.join(map(str, offered))})",
                                   code="privacy_level_unavailable", platform_error={"privacy_level_options": offered})
        open_id = str(grant.raw["open_id"])
        handle = str(info.get("creator_username") or open_id)
        return [ConnectOption(id=open_id, handle=handle, display_name=str(info.get("creator_nickname") or handle),
                              external_user_id=open_id, kind="user", expires_at=grant.expires_at,
                              credentials={"access_token": grant.access_token, **token_fields(grant)},
                              settings={"privacy_level": privacy})]
