"""Instagram professional accounts through the Graph API's content publishing flow."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from .base import Account, Media, PlatformRejected, Problem, Published, PublishRequest
from .graph import ContainerPlatform
from .meta import MetaLogin
from .oauth import ClientApp, Refreshed
from .reconcile import seed_digits, seed_int, shortcode

# a hashtag or @mention starts a word: "a#b", "&#39;" and "me@example.com" are neither
_HASHTAG = re.compile(r"(?<![\w#&])#\w+")
_MENTION = re.compile(r"(?<![\w.@])@[\w.]+")


class Instagram(MetaLogin, ContainerPlatform):
    """Instagram: media required; container, status poll, media_publish, then a permalink read."""

    name: ClassVar[str] = "instagram"
    label: ClassVar[str] = "Instagram"
    max_caption: ClassVar[int] = 2200
    max_alt: ClassVar[int] = 1000  # alt text, per media item
    max_media: ClassVar[int] = 10  # a carousel holds 2-10 items
    has_first_comment: ClassVar[bool] = True
    max_hashtags: ClassVar[int] = 30
    max_mentions: ClassVar[int] = 20
    requires_media: ClassVar[bool] = True
    has_lookup: ClassVar[bool] = True
    credential_fields: ClassVar[tuple[str, ...]] = ("access_token", "ig_user_id")
    #: connected through Facebook Login: the business accounts linked to the user's Pages
    connect_kinds: ClassVar[frozenset[str]] = frozenset({"instagram_business"})

    user_field: ClassVar[str] = "ig_user_id"

    def comment(self, account: Account, platform_post_id: str, text: str) -> Published:
        """POST /{ig-media-id}/comments."""
        token, _ = self.ids(account.credentials)
        answer = self.graph(token, "POST", f"{platform_post_id}/comments", {"message": text})
        return Published(platform_post_id=str(answer["id"]), permalink="")
    create_edge: ClassVar[str] = "media"
    publish_edge: ClassVar[str] = "media_publish"
    status_field: ClassVar[str] = "status_code"
    detail_field: ClassVar[str] = "status"
    caption_param: ClassVar[str] = "caption"
    image_type: ClassVar[str] = ""  # image containers take no media_type
    single_video_type: ClassVar[str] = "REELS"  # standalone feed videos are published as reels

    def validate(self, caption: str, media: Sequence[Media]) -> list[Problem]:
        """The generic rules plus Instagram's hashtag and mention caps."""
        problems = super().validate(caption, media)
        hashtags, mentions = len(_HASHTAG.findall(caption)), len(_MENTION.findall(caption))
        if hashtags > self.max_hashtags:
            problems.append(self.problem("caption.max_hashtags", "caption", f"{hashtags} hashtags; Instagram allows {self.max_hashtags}"))
        if mentions > self.max_mentions:
            problems.append(self.problem("caption.max_mentions", "caption", f"{mentions} @mentions; Instagram allows {self.max_mentions}"))
        return problems

    def validate_options(self, options: Mapping[str, Any], media: Sequence[Media]) -> list[Problem]:
        """A story is one image or video; a reel is one video."""
        kind = options.get("kind")
        if kind == "story" and len(media) != 1:
            return [self.problem("options.kind", "options.kind", "a story takes exactly one image or video")]
        if kind == "reel" and (len(media) != 1 or media[0].type != "video"):
            return [self.problem("options.kind", "options.kind", "a reel takes exactly one video")]
        return []

    def post_params(self, request: PublishRequest, *, single: bool) -> dict[str, Any]:
        """Options as container parameters: a story, a reel kept out of the feed, collaborators."""
        options, params = request.options, {}
        if options.get("kind") == "story" and single:
            params["media_type"] = "STORIES"
        elif single and request.media[0].type == "video" and options.get("share_to_feed") is False:
            params["share_to_feed"] = "false"  # reels show in the feed grid unless told otherwise
        if options.get("collaborators") and options.get("kind") != "story":
            params["collaborators"] = json.dumps(list(options["collaborators"]))
        return params

    def permalink(self, handle: str, post_id: str) -> str:
        """A /p/<shortcode>/ link; the shortcode is derived from the media id (sandbox only)."""
        return f"https://www.instagram.com/p/{shortcode(seed_int(post_id))}/"

    def sample_post_id(self, seed: str) -> str:
        """A 17-digit Graph media id like 17920238422030506."""
        return "17" + seed_digits(seed, 15)

    def profile_url(self, handle: str) -> str:
        """The profile page, the permalink of last resort."""
        return f"https://www.instagram.com/{handle.lstrip('@')}/"

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Refuse caption-only posts before any call; otherwise the shared container flow."""
        if not request.media:
            raise PlatformRejected("Instagram cannot publish a post without media", code="media_required")
        return super().publish(account, request)

    # -- token lifecycle: only Instagram Login tokens refresh (ig_refresh_token); Facebook Login page
    # tokens never expire, and an expiring Facebook user token can only be renewed by the user

    refresh_ahead: ClassVar[float] = 7 * 86400.0

    def can_refresh(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> bool:
        """An Instagram Login long-lived token (`"login": "instagram"` with an expiry)."""
        return bool(credentials.get("login") == "instagram" and credentials.get("access_token")
                    and self.token_expires_at(credentials))

    def refresh_credentials(self, credentials: Mapping[str, Any], client: ClientApp | None = None) -> Refreshed:
        """GET graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token: valid 60 days from now."""
        return self.refresh_long_lived(f"{INSTAGRAM_LOGIN_HOST}/refresh_access_token", "ig_refresh_token", credentials)


INSTAGRAM_LOGIN_HOST = "https://graph.instagram.com"
