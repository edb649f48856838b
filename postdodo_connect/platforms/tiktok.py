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
    Platform,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    Profile,
    Published,
    PublishRequest,
    error_body,
)
from .grants import refused, require_scopes, token_fields
from .oauth import ClientApp, ConnectOption, Grant, OAuthSpec, Refreshed
from .reconcile import seed_digits
from .text import utf16_units

# TikTok's per-creator daily cap: try again tomorrow rather than fail
DAILY_CAP_ERRORS = frozenset({"spam_risk_too_many_posts", "spam_risk_too_many_pending_share"})
DAY = 86400.0
#: what an unaudited client may post (and only to private accounts): the default until told otherwise
PRIVATE = "SELF_ONLY"


class TikTok(Platform):
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
    #: status/fetch allows 30 calls a minute per token; a pulled video takes a while to download and process
    check_after: ClassVar[float] = 10.0
    # the publish_id is the post's handle: an ambiguous init is settled through its publish status
    has_lookup: ClassVar[bool] = True
    processing_budget: ClassVar[float] = 1800.0  # TikTok: processing of a pulled video can take up to 30 min

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
        """Init a direct post pulling the media from its URLs (once: its publish_id is saved), then ask its status."""
        if not request.media:
            raise PlatformRejected("TikTok cannot publish a post without media", code="media_required")
        if (resumed := self.resume(account, request)) is not None:
            return resumed
        token = self.credential(account.credentials, "access_token")
        # unaudited apps may only post privately, so private is the default until the account says otherwise
        options = request.options
        privacy = str(options.get("privacy_level") or account.settings.get("privacy_level") or "SELF_ONLY")
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
        # the API's names for the options; only the ones set, so a post without options sends what it always did
        flags = {"disable_comment": "disable_comment", "brand_content": "brand_content_toggle",
                 "brand_organic": "brand_organic_toggle"}
        if media[0].type == "video":
            flags |= {"disable_duet": "disable_duet", "disable_stitch": "disable_stitch"}
        payload["post_info"] |= {wire: True for name, wire in flags.items() if options.get(name)}
        self.calling(request)
        publish_id = str(self.api(token, path, payload, creates=True)["publish_id"])
        request.save(publish_id=publish_id)  # from here on every attempt only asks for this post's status
        return self.status(token, account.handle, publish_id)

    def resume(self, account: Account, request: PublishRequest) -> Published | None:
        """The post an earlier attempt's init queued, when one did (None: no init answered yet)."""
        publish_id = request.state.get("publish_id")
        if not publish_id:
            return None
        return self.status(self.credential(account.credentials, "access_token"), account.handle, str(publish_id))

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """Through the saved publish_id's status; without one nobody can tell whether the init went through."""
        if not request.state.get("publish_id"):
            raise OutcomeUnknown("TikTok: the post init got no answer and TikTok has no way to find the post",
                                 code="outcome_unknown", retryable=False)
        return self.resume(account, request)

    def status(self, token: str, handle: str, publish_id: str) -> Published:
        """One status/fetch: the post, a "check again later" while TikTok processes it, or the final failure."""
        try:
            state = self.api(token, "post/publish/status/fetch/", {"publish_id": publish_id})
        except PlatformError as exc:
            if exc.retryable:
                raise  # a throttled or failed read says nothing about the post: the next attempt asks again
            # the init was accepted, so the post may well exist whatever this read says
            raise OutcomeUnknown(f"TikTok status unreadable: {exc.message}", code="outcome_unknown", retryable=False,
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
        raise self.processing(f"post {publish_id} is {status or 'processing'}", self.check_after,
                              handles={"publish_id": publish_id, "status": status})

    # -- token lifecycle: 24 h access tokens, refresh tokens rotated on every refresh -----------------

    refresh_ahead: ClassVar[float] = 3600.0

    def refresh_client(self, credentials: Mapping[str, Any], client: ClientApp | None) -> ClientApp | None:
        """TikTok names its client id `client_key`; a secret is always needed."""
        if credentials.get("client_key") and credentials.get("client_secret"):
            return ClientApp(str(credentials["client_key"]), str(credentials["client_secret"]), "")
        return client if client is not None and client.client_secret else None

    def can_refresh(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> bool:
        """A refresh token and our app's key and secret."""
        return bool(credentials.get("refresh_token") and self.refresh_client(credentials, client))

    def refresh_credentials(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> Refreshed:
        """POST /v2/oauth/token/ with grant_type=refresh_token; the answer's refresh token replaces ours."""
        app = self.refresh_client(credentials, client)
        if app is None:
            raise PlatformAuthError("TikTok refresh needs the app's client key and secret", code="refresh_refused")
        return self.refresh_grant(f"{self.api_url}/oauth/token/", credentials, None,
                                  extra={"client_key": app.client_id, "client_secret": app.client_secret})
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
