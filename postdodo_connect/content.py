"""Post content beyond one caption: per-platform and per-account versions, and each platform's typed options.

Wire models only (no server imports): the lean client and the API share them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "OPTIONS",
    "BlueskyOptions",
    "DiscordOptions",
    "FacebookOptions",
    "InstagramOptions",
    "LinkedInOptions",
    "MastodonOptions",
    "PinterestOptions",
    "SlackOptions",
    "TelegramOptions",
    "ThreadsOptions",
    "TikTokOptions",
    "XOptions",
    "check_options",
]


class _Options(BaseModel):
    # a misspelt option must never be dropped silently (a story posted as a feed post); strict: no "1" for true
    model_config = ConfigDict(extra="forbid", strict=True)


Short = Annotated[str, Field(min_length=1, max_length=100)]


class MastodonOptions(_Options):
    """Mastodon: POST /api/v1/statuses fields."""

    #: None: the account's own setting (public unless set)
    visibility: Literal["public", "unlisted", "private", "direct"] | None = None
    #: the content warning shown before the post
    spoiler_text: str = Field(default="", max_length=500)
    #: ISO 639-1 code of the post's language
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    #: mark the media as sensitive
    sensitive: bool = False


class XOptions(_Options):
    """X: POST /2/tweets fields (None: everyone can reply)."""

    reply_settings: Literal["following", "mentionedUsers", "subscribers", "verified"] | None = None


class InstagramOptions(_Options):
    """Instagram Graph API: the kind of post and who shares it."""

    kind: Literal["feed", "reel", "story"] = "feed"
    #: usernames invited as collaborators (feed and reel; at most 3)
    collaborators: list[Short] = Field(default_factory=list, max_length=3)
    #: a reel also shows in the feed grid
    share_to_feed: bool = True


class TikTokOptions(_Options):
    """TikTok Content Posting API: post_info fields."""

    privacy_level: Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"] | None = None
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    #: paid partnership (promoting a third party)
    brand_content: bool = False
    #: promoting the creator's own business
    brand_organic: bool = False


class PinterestOptions(_Options):
    """Pinterest: POST /v5/pins fields (board_id: the account's board unless set)."""

    board_id: Short | None = Field(default=None, pattern=r"^\d+$")
    link: str | None = Field(default=None, max_length=2048, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$")
    title: str | None = Field(default=None, max_length=100)


class LinkedInOptions(_Options):
    """LinkedIn Posts API: who sees the post."""

    visibility: Literal["PUBLIC", "CONNECTIONS", "LOGGED_IN"] = "PUBLIC"


class ThreadsOptions(_Options):
    """Threads API: topic tag and who may reply."""

    topic_tag: str | None = Field(default=None, min_length=1, max_length=50, pattern=r"^[^.&\s]+$")
    reply_control: Literal["everyone", "accounts_you_follow", "mentioned_only", "parent_post_author_only",
                           "followers_only"] | None = None


class TelegramOptions(_Options):
    """Telegram Bot API: sendMessage/sendPhoto flags."""

    disable_notification: bool = False
    protect_content: bool = False


class SlackOptions(_Options):
    """Slack incoming webhook: the name shown (where the app may override it)."""

    username: str | None = Field(default=None, min_length=1, max_length=80)


class DiscordOptions(_Options):
    """Discord webhook: the name shown instead of the webhook's."""

    username: str | None = Field(default=None, min_length=1, max_length=80)


class BlueskyOptions(_Options):
    """Bluesky app.bsky.feed.post: the post's languages (BCP 47, at most 3)."""

    langs: list[Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]] = Field(
        default_factory=list, max_length=3)


class FacebookOptions(_Options):
    """Facebook: no options yet."""


OPTIONS: dict[str, type[_Options]] = {
    "bluesky": BlueskyOptions, "discord": DiscordOptions, "facebook": FacebookOptions,
    "instagram": InstagramOptions, "linkedin": LinkedInOptions, "mastodon": MastodonOptions,
    "pinterest": PinterestOptions, "slack": SlackOptions, "telegram": TelegramOptions, "threads": ThreadsOptions,
    "tiktok": TikTokOptions, "x": XOptions,
}


def check_options(platform: str, raw: dict[str, Any] | None, field: str = "options") -> tuple[dict[str, Any], list[dict[str, str]]]:
    """A platform's options with defaults applied, and one problem per bad option (rule `<platform>.options.<name>`)."""
    model = OPTIONS.get(platform, FacebookOptions)
    try:
        return model.model_validate(raw or {}).model_dump(), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            name = str(err["loc"][0]) if err["loc"] else "options"
            if err["type"] == "extra_forbidden":
                known = ", ".join(model.model_fields) or "none"
                rule, message = "unknown", f"{platform} has no option {name!r} (known: {known})"
            else:
                rule, message = name, f"{platform} option {name}: {str(err['msg']).removeprefix('Value error, ')}"
            problems.append({"field": f"{field}.{name}", "platform": platform,
                             "rule": f"{platform}.options.{rule}", "message": message})
        return {}, problems
