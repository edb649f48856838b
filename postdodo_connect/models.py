"""Pydantic wire models: the JSON contract shared by the API, the client and the receiver."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "Account",
    "AccountCreate",
    "AccountError",
    "AccountHealth",
    "ConnectChoice",
    "Content",
    "ConnectCreate",
    "ConnectFailure",
    "ConnectPlatform",
    "ConnectSelect",
    "ConnectSession",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "Media",
    "Page",
    "Post",
    "SandboxFaults",
    "PostCreate",
    "PostUpdate",
    "PostStatus",
    "Redelivery",
    "Target",
    "TargetError",
    "TargetStatus",
    "UnpublishPlan",
    "UnpublishStep",
    "Validation",
    "Version",
    "WebhookCreate",
    "WebhookEndpoint",
    "WebhookRotate",
    "WebhookTest",
    "format_time",
]

PostStatus = Literal["scheduled", "publishing", "published", "partially_published", "failed", "canceled",
                     "unpublishing", "unpublished"]
TargetStatus = Literal["scheduled", "publishing", "confirmed", "retrying", "failed", "canceled", "unpublishing",
                       "unpublished"]
EVENT_TYPES = (
    "post.scheduled",
    "post.published",
    "post.retrying",
    "post.failed",
    "post.completed",
    "post.canceled",
    "post.updated",
    "post.unpublished",
    "account.disconnected",
    "account.expiring",
    "account.reconnected",
)
MAX_TARGETS = 100


def format_time(value: datetime) -> str:
    """ISO 8601 UTC with `Z`; milliseconds only when there are any."""
    value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat, not strftime: several times faster, and every API answer formats a few
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds") + "Z"


# Output times always leave as `...Z`; input times must carry an offset (AwareDatetime refuses naive ones).
Time = Annotated[AwareDatetime, PlainSerializer(format_time, return_type=str, when_used="json")]

# NUL reaches no database (PostgreSQL refuses it in text, SQLite would store it) and other C0 controls
# make no sense in names and ids; a caption keeps tab, line feed and carriage return
_CONTROLS = r"\x00-\x1f\x7f"
_CAPTION_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_HAS_CONTROL = re.compile(f"[{_CONTROLS}]")
_HAS_CAPTION_CONTROL = re.compile(f"[{_CAPTION_CONTROLS}]")


def _refuse(pattern: re.Pattern[str]) -> AfterValidator:
    def check(value: str) -> str:
        if pattern.search(value):
            raise PydanticCustomError("control_characters", "must not contain NUL or other control characters")
        return value

    return AfterValidator(check)


#: one line of text: names, ids, handles, descriptions, tokens
Line = Annotated[str, _refuse(_HAS_CONTROL), Field(json_schema_extra={"pattern": f"^[^{_CONTROLS}]*$"})]
#: free text: a caption (tab and line breaks allowed)
Text = Annotated[str, _refuse(_HAS_CAPTION_CONTROL), Field(json_schema_extra={"pattern": f"^[^{_CAPTION_CONTROLS}]*$"})]


_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d[Tt ]")


def _iso_only(value: Any) -> Any:
    # pydantic would read 1700000000 and "1700000000" as Unix times
    if not isinstance(value, datetime) and not (isinstance(value, str) and _ISO_DATE.match(value)):
        raise PydanticCustomError("datetime_format", "must be an ISO 8601 time with an offset, like 2030-01-01T09:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    try:  # "0001-01-01T00:00:00+01:00" is before year 1 in UTC: no datetime can hold it
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_out_of_range", "is out of range (years 1 to 9999 in UTC)") from None


#: an input time: ISO 8601 with an offset, as a string (never a Unix timestamp), held in UTC
InputTime = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_iso_only), AfterValidator(_in_utc),
                      PlainSerializer(format_time, return_type=str, when_used="json")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Input(BaseModel):
    # unknown fields are refused so a typo ("schedule_at") never silently publishes now
    # strict: no "1" for 1, no 0 for false, no Unix number for a time; the docs ask for the real type
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, strict=True)


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


class Version(_Input):
    """A post's content for one platform or one account; what it leaves out comes from the post."""

    caption: Text | None = Field(default=None, max_length=100_000)
    media: list[Media] | None = Field(default=None, max_length=20)
    #: the platform's options (see the `<Platform>Options` schemas); unknown ones are refused
    options: dict[Annotated[str, Field(max_length=50)], Any] | None = None
    first_comment: Text | None = Field(default=None, max_length=10_000)


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


class Content(_Model):
    """What one target publishes: the post's content with its platform's and account's versions applied."""

    caption: str
    media: list[Media] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    first_comment: str | None = None


class TargetError(_Model):
    """Why a target is retrying or failed."""

    code: str
    message: str
    retryable: bool = False
    platform_error: Any = None


class FirstComment(_Model):
    """The first comment of one target: posted after the post is confirmed; its failure never fails the post."""

    #: pending: waits for the post (or for its next try); published; failed (see `error`)
    status: Literal["pending", "published", "failed"]
    platform_post_id: str | None = None
    permalink: str | None = None
    error: TargetError | None = None


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
    targets: list[Target]
    created_at: Time
    updated_at: Time | None = None


class UnpublishStep(_Model):
    """What an unpublish request does on one target."""

    account_id: str
    platform: str
    #: unpublishing: the delete is queued; unsupported: the platform cannot delete (see `error`);
    #: not_published: nothing to delete; unpublished: done already
    action: Literal["unpublishing", "unsupported", "not_published", "unpublished"]
    error: TargetError | None = None


class UnpublishPlan(_Model):
    """Answer of POST /v1/posts/{id}/unpublish: the post as it is now and what happens per target."""

    post: Post
    targets: list[UnpublishStep]


class Validation(_Model):
    """Answer of POST /v1/posts/validate."""

    valid: bool
    details: list[dict[str, str]] = Field(default_factory=list)


class AccountError(_Model):
    """The last error an account's posts met."""

    code: str
    message: str
    at: Time | None = None


class AccountHealth(_Model):
    """Whether an account can keep publishing: token expiry, scopes, last publish and error."""

    token_expires_at: Time | None = None
    scopes_granted: list[str] | None = None
    scopes_needed: list[str] = Field(default_factory=list)
    last_published_at: Time | None = None
    last_error: AccountError | None = None
    #: true when only a new connect session (with account_id) can make it publish again
    needs_reconnect: bool = False


class Account(_Model):
    """A connected social account."""

    id: str
    platform: str
    handle: str
    display_name: str = ""
    mode: Literal["live", "sandbox"]
    status: Literal["active", "expired", "disconnected"]
    created_at: Time | None = None
    health: AccountHealth | None = None


class SandboxFaults(_Input):
    """How a sandbox account misbehaves: each rate is the chance per publish, 0..1."""

    latency_ms: float = Field(default=0, ge=0, le=60_000)
    rate_limit_rate: float = Field(default=0, ge=0, le=1)
    retry_after: float = Field(default=30, ge=0, le=86_400)
    server_error_rate: float = Field(default=0, ge=0, le=1)
    timeout_rate: float = Field(default=0, ge=0, le=1)
    #: the ambiguous case: the post is stored, then the answer is a 500
    commit_then_fail_rate: float = Field(default=0, ge=0, le=1)
    reject_rate: float = Field(default=0, ge=0, le=1)
    auth_error_rate: float = Field(default=0, ge=0, le=1)
    #: when > 0, faults strike only attempts 1..fault_attempts (then the platform recovers)
    fault_attempts: int = Field(default=0, ge=0, le=100)
    #: behave like a platform that cannot find a post after an ambiguous create (Mastodon without a lookup, TikTok)
    no_lookup: bool = False
    #: seconds a repeated create returns the original post (Mastodon's Idempotency-Key: about 3600); 0: none
    idempotency_seconds: float = Field(default=0, ge=0, le=86_400)
    #: seconds the platform takes to process a post's media before it can be published (0: at once)
    processing_seconds: float = Field(default=0, ge=0, le=86_400)


class AccountCreate(_Input):
    """Body of POST /v1/accounts: a sandbox account by handle, or a live one by credentials."""

    platform: Line
    mode: Literal["live", "sandbox"] | None = None
    handle: Line | None = Field(default=None, min_length=1, max_length=100)
    display_name: Line | None = Field(default=None, max_length=200)
    credentials: dict[Line, Line] | None = None
    sandbox: SandboxFaults | None = None


class WebhookCreate(_Input):
    """Body of POST /v1/webhooks."""

    url: str = Field(min_length=8, max_length=2048)
    events: list[Line] | None = None
    description: Line | None = Field(default=None, max_length=500)


class WebhookRotate(_Input):
    """Body of POST /v1/webhooks/:id/rotate."""

    expire_now: bool = False


class WebhookEndpoint(_Model):
    """A webhook endpoint; `secret` is present only on create and rotate."""

    id: str
    url: str
    events: list[str]
    status: Literal["enabled", "disabled"]
    description: str | None = None
    created_at: Time | None = None
    disabled_reason: str | None = None
    secret: str | None = None


class Event(_Model):
    """The envelope of every webhook delivery."""

    id: str
    event: str
    created_at: Time
    data: dict[str, Any]

    @property
    def post_id(self) -> str | None:
        """The post an event of type ``post.*`` is about."""
        value = self.data.get("post_id")
        return value if isinstance(value, str) else None

    @property
    def sequence(self) -> int | None:
        """The event's place among its post's events (1, 2, 3...): deliveries may arrive out of order, so a
        consumer applies a post's events by this number and ignores one lower than the last it applied."""
        value = self.data.get("sequence")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class DeliveryAttempt(_Model):
    """One HTTP attempt of a delivery."""

    attempted_at: Time
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None


class Delivery(_Model):
    """One event sent to one endpoint, with its attempts."""

    id: str
    event_id: str
    event: str
    endpoint_id: str
    status: Literal["pending", "delivering", "delivered", "failed", "canceled"]
    attempts: int
    next_attempt_at: Time | None = None
    created_at: Time
    last_status_code: int | None = None
    log: list[DeliveryAttempt] = Field(default_factory=list)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list endpoint."""

    data: list[T]
    has_more: bool
    next_cursor: str | None = None


class WebhookTest(_Model):
    """Answer of POST /v1/webhooks/:id/test: the webhook.test event and its delivery."""

    event: Event
    delivery_id: str


class Redelivery(_Model):
    """Answer of POST /v1/events/:id/redeliver: one new delivery per subscribed endpoint."""

    event_id: str
    deliveries: list[str] = Field(default_factory=list)


class ConnectCreate(_Input):
    """Body of POST /v1/connect: start connecting (or, with account_id, reconnecting) an account."""

    platform: Line = Field(max_length=30)
    redirect_url: Line = Field(min_length=8, max_length=2000)
    account_id: Line | None = Field(default=None, min_length=1, max_length=100)
    #: per platform: Mastodon's `instance_url`
    options: dict[Annotated[Line, Field(max_length=50)], Annotated[Line, Field(max_length=500)]] | None = Field(
        default=None, max_length=10)


class ConnectSelect(_Input):
    """Body of POST /v1/connect/:id/select: the options to create accounts for."""

    option_ids: list[Annotated[Line, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=100)


class ConnectChoice(_Model):
    """One target a session's login reaches (a Page, an organization, a board, a channel)."""

    id: str
    handle: str
    display_name: str = ""
    kind: str = "user"


class ConnectFailure(_Model):
    """Why a session failed or expired (the same code and message its redirect carried)."""

    code: str
    message: str


class ConnectSession(_Model):
    """A connect session: where the browser goes (`url`, on create only) and how far it got."""

    id: str
    platform: str
    status: Literal["pending", "needs_selection", "completed", "failed", "expired"]
    url: str | None = None
    redirect_url: str
    account_id: str | None = None
    options: list[ConnectChoice] = Field(default_factory=list)
    account_ids: list[str] = Field(default_factory=list)
    error: ConnectFailure | None = None
    created_at: Time
    expires_at: Time


class ConnectPlatform(_Model):
    """A platform as GET /v1/connect/platforms describes it."""

    platform: str
    label: str
    kind: Literal["oauth", "form"]
    configured: bool
    scopes: list[str] = Field(default_factory=list)
    #: the exact redirect URI to register in the platform's developer app (OAuth platforms)
    redirect_uri: str | None = None
    #: what is missing when not configured
    message: str | None = None
