"""The wire models of a post: its content in (media, versions, thread, create and edit bodies) and the post out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from .models_base import MAX_TARGETS, InputTime, Line, Text, Time, _Input, _Model

__all__ = ["MAX_THREAD", "Content", "FirstComment", "Media", "Post", "PostCreate", "PostStatus", "PostUpdate", "Target",
           "TargetError", "TargetStatus", "ThreadItem", "ThreadItemProgress", "ThreadProgress", "Version"]

PostStatus = Literal["scheduled", "publishing", "published", "partially_published", "failed", "canceled",
                     "unpublishing", "unpublished"]
TargetStatus = Literal["scheduled", "publishing", "confirmed", "retrying", "failed", "canceled", "unpublishing",
                       "unpublished"]

#: the most items a thread takes after its first post
MAX_THREAD = 25


class Media(_Input):
    """One media item, attached by URL."""

    type: Literal["image", "video"] = "image"
    # the pattern is the cheap part of the rules (documented in OpenAPI); the API applies netguard's in full
    url: str = Field(min_length=10, max_length=2048,
                     json_schema_extra={"pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f\\]+$"})
    #: alt text for screen readers (each platform's limit is a preflight rule `<platform>.media.alt_max_length`)
    alt: Text | None = Field(default=None, max_length=5000)

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError("media url must be an http(s) URL")
        return value


class ThreadItem(_Input):
    """One post of a thread after the first: its own caption and media, checked by the same platform rules."""

    caption: Text = Field(default="", max_length=100_000)
    media: list[Media] = Field(default_factory=list, max_length=20)


#: a thread: the items after the first post, in order
Thread = Annotated[list[ThreadItem], Field(max_length=MAX_THREAD)]


class Version(_Input):
    """A post's content for one platform or one account; what it leaves out comes from the post."""

    caption: Text | None = Field(default=None, max_length=100_000)
    media: list[Media] | None = Field(default=None, max_length=20)
    #: the platform's options (see the `<Platform>Options` schemas); unknown ones are refused
    options: dict[Annotated[str, Field(max_length=50)], Any] | None = None
    first_comment: Text | None = Field(default=None, max_length=10_000)
    #: this platform's or account's thread ([] for none)
    thread: Thread | None = None


class PostCreate(_Input):
    """Body of POST /v1/posts and POST /v1/posts/validate."""

    caption: Text = Field(default="", max_length=100_000)
    account_ids: list[Annotated[Line, Field(min_length=1, max_length=100)]] = Field(min_length=1, max_length=MAX_TARGETS)
    scheduled_at: InputTime | None = None
    media: list[Media] = Field(default_factory=list, max_length=20)
    #: per-platform versions: {"x": {"caption": ...}}; per-account ones win over them
    platforms: dict[Annotated[str, Field(max_length=30)], Version] | None = Field(default=None, max_length=20)
    accounts: dict[Annotated[str, Field(max_length=100)], Version] | None = Field(default=None, max_length=MAX_TARGETS)
    first_comment: Text | None = Field(default=None, max_length=10_000)
    #: the posts after the first, published in order as replies (X, Bluesky, Threads, Mastodon)
    thread: Thread | None = None


class PostUpdate(_Input):
    """Body of PATCH /v1/posts/:id: the fields to replace (a version map replaces the whole map)."""

    caption: Text | None = Field(default=None, max_length=100_000)
    account_ids: list[Annotated[Line, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=MAX_TARGETS)
    scheduled_at: InputTime | None = None
    media: list[Media] | None = Field(default=None, max_length=20)
    platforms: dict[Annotated[str, Field(max_length=30)], Version] | None = Field(default=None, max_length=20)
    accounts: dict[Annotated[str, Field(max_length=100)], Version] | None = Field(default=None, max_length=MAX_TARGETS)
    first_comment: Text | None = Field(default=None, max_length=10_000)
    thread: Thread | None = None


class Content(_Model):
    """What one target publishes: the post's content with its platform's and account's versions applied."""

    caption: str
    media: list[Media] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    first_comment: str | None = None
    thread: list[ThreadItem] = Field(default_factory=list)


class TargetError(_Model):
    """Why a target is retrying or failed."""

    code: str
    message: str
    retryable: bool = False
    platform_error: Any = None


class FirstComment(_Model):
    """The first comment of one target: posted after the post is confirmed; its failure never fails the post."""

    #: pending: waits for the post (or for its next try); published; failed (see `error`);
    #: canceled: the post was unpublished before the comment was posted
    status: Literal["pending", "published", "failed", "canceled"]
    platform_post_id: str | None = None
    permalink: str | None = None
    error: TargetError | None = None


class ThreadItemProgress(_Model):
    """One thread item of a target: posted in order after the first post, each confirmed on its own."""

    #: pending: not posted yet (or waiting for its next try); published; failed (see `error`); unpublished
    status: Literal["pending", "published", "failed", "unpublished"]
    platform_post_id: str | None = None
    permalink: str | None = None
    error: TargetError | None = None


class ThreadProgress(_Model):
    """How far a target's thread got; the first post stays `confirmed` whatever happens to the thread."""

    #: pending: items still to post; published: all posted; failed: stopped at the failed item;
    #: canceled: the post was unpublished before the thread was done
    status: Literal["pending", "published", "failed", "canceled"]
    published: int
    total: int
    items: list[ThreadItemProgress]


class Target(_Model):
    """One account of a post and how far it got."""

    account_id: str
    platform: str
    status: TargetStatus
    #: while `publishing`: "processing" when the platform is processing the media (next check: `next_attempt_at`)
    phase: Literal["processing"] | None = None
    permalink: str | None = None
    platform_post_id: str | None = None
    attempts: int = 0
    next_attempt_at: Time | None = None
    error: TargetError | None = None
    content: Content | None = None
    first_comment: FirstComment | None = None
    thread: ThreadProgress | None = None


class Post(_Model):
    """A post and its per-platform targets."""

    id: str
    status: PostStatus
    caption: str
    scheduled_at: Time | None = None
    media: list[Media] = Field(default_factory=list)
    platforms: dict[str, Version] | None = None
    accounts: dict[str, Version] | None = None
    first_comment: str | None = None
    thread: list[ThreadItem] | None = None
    targets: list[Target]
    created_at: Time
    updated_at: Time | None = None
