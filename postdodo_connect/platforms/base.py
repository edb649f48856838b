"""The platform contract: what an adapter is told (Account, PublishRequest), what it answers, and `Platform`.

Rooms of the shared base, each importing only the ones before it: `plumbing` (HTTP: timeouts, answer
classification, retry hints), `media` (fetching media by URL through the SSRF guard), `reconcile` (does a
found post match an attempt: time window, text, sample ids), `oauth` (connecting), then this contract.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

from ..errors import (
    OutcomeUnknown,
    PlatformAuthError,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    StillProcessing,
)
from . import media as media_fetch
from .oauth import Connectable
from .plumbing import TIMEOUT, Resolver, error_body
from .reconcile import in_window, seed_digits


@dataclass(frozen=True)
class Media:
    """One media item of a post, by URL."""

    type: str  # "image" | "video"
    url: str
    alt: str = ""  # alt text ("" when none)


@dataclass(frozen=True)
class Problem:
    """One preflight rule a post breaks on one platform."""

    platform: str
    rule: str  # stable id, e.g. "bluesky.caption.max_graphemes"
    field: str  # "caption" | "media" | "media[0]"
    message: str

    def as_detail(self) -> dict[str, str]:
        """The `details` entry of an API error body."""
        return {"field": self.field, "platform": self.platform, "rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Account:
    """What an adapter needs to know about the account it posts as."""

    id: str
    platform: str
    handle: str
    credentials: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


class Progress:
    """What an attempt learned on the platform so far, kept on the target so the next attempt resumes from it.

    The engine's subclass writes each `save` and `calling` to the database before returning, so the next
    platform call happens only once they are safe; this base keeps them in memory (tests, previews).
    """

    def __init__(self, state: dict[str, Any] | None = None, call_started: float | None = None) -> None:
        self.state: dict[str, Any] = dict(state or {})
        #: epoch seconds when the call that may create the post last started (None: never)
        self.call_started = call_started

    def save(self, **handles: Any) -> None:
        """Remember in-flight handles (container id, publish_id, media ids) before the next platform call."""
        self.state.update(handles)
        self.persist()

    def calling(self, now: float) -> None:
        """The call that may create the post starts now: from here on an interruption is an unknown outcome."""
        self.call_started = now
        self.persist()

    def persist(self) -> None:
        """Store `state` and `call_started` (the engine's subclass writes them to the target)."""


@dataclass(frozen=True)
class Published:
    """A confirmed post on the platform."""

    platform_post_id: str
    permalink: str
    #: Bluesky: the record's content hash, which a reply's refs carry with its URI ("" elsewhere or unknown)
    cid: str = ""


@dataclass(frozen=True)
class ReplyTo:
    """Where a thread item goes: under `parent` (the previous item, or the first post), in the thread of `root`."""

    root: Published
    parent: Published


@dataclass(frozen=True)
class PublishRequest:
    """One target to publish: `target_id` is stable across attempts (idempotency / reconcile key)."""

    target_id: str
    caption: str
    media: Sequence[Media] = ()
    attempt: int = 1
    #: the platform's options (content.OPTIONS), validated with defaults applied
    options: Mapping[str, Any] = field(default_factory=dict)
    first_comment: str | None = None
    #: set for a thread item: the post it replies to (its `target_id` is then the item's own stable key)
    reply_to: ReplyTo | None = None
    #: where the engine keeps this target's platform state (None: a one-off publish that keeps nothing)
    progress: Progress | None = None

    @property
    def state(self) -> dict[str, Any]:
        """The handles earlier attempts saved (empty on a first attempt)."""
        return self.progress.state if self.progress is not None else {}

    @property
    def call_started(self) -> float | None:
        """When the call that may create the post last started (epoch seconds; None: never)."""
        return self.progress.call_started if self.progress is not None else None

    def save(self, **handles: Any) -> None:
        """Persist in-flight handles at once (see `Progress.save`)."""
        if self.progress is not None:
            self.progress.save(**handles)


@dataclass(frozen=True)
class Profile:
    """Who a set of credentials belongs to, as the platform says."""

    handle: str
    display_name: str = ""


#: called with the account and its new credentials after a token refresh, so they can be stored
CredentialsHook = Callable[[Account, dict[str, Any]], None]


class Platform(Connectable):
    """Base of every platform adapter; subclasses set `name` and the limits, and override the calls."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    #: caption limit in the platform's own unit (see `caption_length`); 0 means no limit
    max_caption: ClassVar[int] = 0
    #: the rule id (after "<name>.") and the unit named when the caption is too long
    caption_rule: ClassVar[str] = "caption.max_length"
    caption_unit: ClassVar[str] = ""
    max_media: ClassVar[int] = 4
    media_kinds: ClassVar[frozenset[str]] = frozenset({"image", "video"})
    requires_media: ClassVar[bool] = False
    #: longest alt text the platform takes per media item (0: it takes none, so alt is not checked)
    max_alt: ClassVar[int] = 0
    #: a video must be the post's only media item (X, Bluesky, Mastodon)
    video_alone: ClassVar[bool] = False
    #: whether `lookup` can find a post after an ambiguous create
    has_lookup: ClassVar[bool] = False
    #: credential fields `POST /v1/accounts` expects for a live account
    credential_fields: ClassVar[tuple[str, ...]] = ()
    #: seconds the platform answers a repeated create with the original post (Idempotency-Key, duplicate
    #: detection): within it an interrupted create is simply sent again; 0 means no such protection
    idempotency_horizon: ClassVar[float] = 0.0
    #: seconds the platform may take to process media, from its docs; past it: `processing_timeout`
    processing_budget: ClassVar[float] = 600.0
    #: for media the adapter downloads and uploads itself: kind -> byte cap, kind -> MIME types
    media_max_bytes: ClassVar[dict[str, int]] = {}
    media_types: ClassVar[dict[str, frozenset[str]]] = {}
    #: whether `comment` can post a first comment under a confirmed post
    has_first_comment: ClassVar[bool] = False
    #: whether `publish` takes `request.reply_to`: thread items posted as replies, in order
    has_thread: ClassVar[bool] = False
    #: the first comment is a post of its own (a self-reply): unpublishing deletes it too
    comment_is_post: ClassVar[bool] = False
    #: whether `delete` can take a published post down (the TikTok and Instagram APIs cannot)
    can_delete: ClassVar[bool] = False
    #: set by the engine to persist credentials that a token refresh replaced

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._requests_session = session  # None: created on first use (preflight stays cheap)
        if clock is not None:
            self.clock = clock
        if sleep is not None:
            self.sleep = sleep
        self.resolver = resolver
        self.on_credentials = None

    # -- preflight -------------------------------------------------------------------------------

    def caption_length(self, caption: str) -> int:
        """The caption's length in this platform's unit (characters unless overridden)."""
        return len(caption)

    def caption_length_at_most(self, caption: str) -> int | None:
        """A cheap upper bound of `caption_length`, when one exists (None: only the exact count will do)."""
        return None

    def caption_limit(self, media: Sequence[Media]) -> int:
        """The caption limit for a post with this media (0: none)."""
        return self.max_caption

    def validate(self, caption: str, media: Sequence[Media]) -> list[Problem]:
        """Every rule this post breaks on this platform (empty when it would be accepted)."""
        problems: list[Problem] = []
        limit = self.caption_limit(media)
        # the exact count (grapheme and URL scanning) only when a cheap bound cannot already rule it out
        bound = self.caption_length_at_most(caption) if limit else None
        if limit and (bound is None or bound > limit) and (length := self.caption_length(caption)) > limit:
            unit = f" {self.caption_unit}" if self.caption_unit else " long"
            problems.append(self.problem(
                self.caption_rule, "caption", f"caption is {length}{unit}; {self.label or self.name} allows {limit}"))
        return problems + self.validate_media(media)

    def validate_media(self, media: Sequence[Media]) -> list[Problem]:
        """The media rules: required, count, kind, and a video standing alone."""
        problems: list[Problem] = []
        if self.requires_media and not media:
            problems.append(self.problem("media.required", "media", f"{self.label or self.name} needs at least one image or video"))
        if len(media) > self.max_media:
            problems.append(self.problem("media.max_count", "media", f"{len(media)} media items; at most {self.max_media} allowed"))
        for index, item in enumerate(media):
            if item.type not in self.media_kinds:
                problems.append(self.problem("media.kind", f"media[{index}]", f"{item.type} is not supported here"))
        for index, item in enumerate(media):
            if self.max_alt and len(item.alt) > self.max_alt:
                problems.append(self.problem("media.alt_max_length", f"media[{index}].alt",
                                             f"alt text is {len(item.alt)} characters; at most {self.max_alt} allowed"))
        if self.video_alone and len(media) > 1 and any(item.type == "video" for item in media):
            problems.append(self.problem("media.video_alone", "media", "a video must be the only media item of a post"))
        return problems

    def validate_options(self, options: Mapping[str, Any], media: Sequence[Media]) -> list[Problem]:
        """Rules that join the options (already typed) with the post's media; none unless a platform says."""
        return []

    def problem(self, rule: str, field_name: str, message: str) -> Problem:
        """A Problem whose rule id is prefixed with this platform's name."""
        return Problem(platform=self.name, rule=f"{self.name}.{rule}", field=field_name, message=message)

    def permalink(self, handle: str, post_id: str) -> str:
        """The public URL of post `post_id` by `handle` (the sandbox uses it for realistic links)."""
        return f"https://{self.name}.example/{handle}/{post_id}"

    def sample_post_id(self, seed: str) -> str:
        """A post id in this platform's own style, derived from `seed` (for the sandbox)."""
        return seed

    # -- live calls ------------------------------------------------------------------------------

    def credential(self, credentials: dict[str, Any], key: str) -> str:
        """One required credential field; a missing one is an auth error, not a crash."""
        value = credentials.get(key)
        if not value:
            raise PlatformAuthError(f"{self.label or self.name} credentials lack {key}", code="auth_expired")
        return str(value)

    def fetch_media(self, account: Account, item: Media) -> tuple[bytes, str]:
        """Download one media item the platform cannot fetch itself, within this platform's caps."""
        return media_fetch.download(item.url, policy=media_fetch.policy_for(account),
                                    max_bytes=self.media_max_bytes.get(item.type, 0),
                                    allowed_types=self.media_types.get(item.type, frozenset()), resolver=self.resolver)

    def calling(self, request: PublishRequest) -> None:
        """Record that the call which may create the post starts now (just before sending it)."""
        if request.progress is not None:
            request.progress.calling(self.clock())

    def matches_time(self, request: PublishRequest, created: Any) -> bool:
        """Whether a post created at `created` can be this request's (a window around its recorded call start)."""
        return in_window(created, request.call_started, self.clock())

    @staticmethod
    def replies_as_asked(request: PublishRequest, replied_to: str | None) -> bool:
        """Whether a post replying to `replied_to` (None: to nothing) can be this request's: a thread item answers
        its parent, a first post answers nothing, so the same text elsewhere in the thread is never taken for it."""
        parent = request.reply_to.parent.platform_post_id if request.reply_to is not None else None
        return (str(replied_to) if replied_to else None) == parent

    def processing(self, message: str, check_after: float, *, handles: dict[str, Any] | None = None) -> StillProcessing:
        """The answer "still processing, check again in `check_after` s" (the engine reschedules; no worker waits)."""
        return StillProcessing(f"{self.label or self.name}: {message}", check_after=check_after,
                               budget=self.processing_budget, platform_error=handles)

    def verify_credentials(self, credentials: dict[str, Any]) -> Profile:
        """Check credentials against the platform; raise PlatformAuthError when refused."""
        raise NotImplementedError(f"{self.name} cannot connect live accounts yet")

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Publish one target; raise a PlatformError subclass on failure (OutcomeUnknown when unsure)."""
        raise NotImplementedError

    def comment(self, account: Account, platform_post_id: str, text: str) -> Published:
        """Post `text` as the first comment under a confirmed post (only when `has_first_comment`)."""
        raise PlatformRejected(f"{self.label or self.name} has no first comment", code="first_comment_unsupported")

    def delete(self, account: Account, platform_post_id: str) -> None:
        """Take a published post down; a post already gone counts as done (raise PlatformNotFound or return)."""
        raise PlatformRejected(f"{self.label or self.name} cannot delete posts through its API",
                               code="unpublish_unsupported")

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """Find the post an ambiguous publish may have created (only when `has_lookup`)."""
        return None

    def can_lookup(self, account: Account) -> bool:
        """Whether `lookup` can find this account's posts (the sandbox lets an account say no)."""
        return self.has_lookup

    def horizon(self, account: Account) -> float:
        """Seconds within which repeating a create returns the original post (`idempotency_horizon`)."""
        return self.idempotency_horizon


#: how a module registers its adapter class
Factory = Callable[[], Platform]

__all__ = [
    "TIMEOUT",
    "Account",
    "CredentialsHook",
    "Factory",
    "Media",
    "OutcomeUnknown",
    "Platform",
    "PlatformAuthError",
    "PlatformError",
    "PlatformRateLimited",
    "PlatformRejected",
    "PlatformUnavailable",
    "Problem",
    "Progress",
    "Profile",
    "PublishRequest",
    "Published",
    "ReplyTo",
    "Resolver",
    "StillProcessing",
    "error_body",
    "seed_digits",
]
