"""Pydantic wire models: the JSON contract shared by the API, the client and the receiver."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, field_validator

__all__ = [
    "Account",
    "AccountCreate",
    "Delivery",
    "DeliveryAttempt",
    "Event",
    "Media",
    "Page",
    "Post",
    "SandboxFaults",
    "PostCreate",
    "PostStatus",
    "Redelivery",
    "Target",
    "TargetError",
    "TargetStatus",
    "Validation",
    "WebhookCreate",
    "WebhookEndpoint",
    "WebhookRotate",
    "WebhookTest",
    "format_time",
]

PostStatus = Literal["scheduled", "publishing", "published", "partially_published", "failed", "canceled"]
TargetStatus = Literal["scheduled", "publishing", "confirmed", "retrying", "failed", "canceled"]
EVENT_TYPES = (
    "post.scheduled",
    "post.published",
    "post.retrying",
    "post.failed",
    "post.completed",
    "post.canceled",
    "account.disconnected",
)
MAX_TARGETS = 100


def format_time(value: datetime) -> str:
    """ISO 8601 UTC with `Z`; milliseconds only when there are any."""
    value = value.astimezone(UTC).replace(tzinfo=None)
    # isoformat, not strftime: several times faster, and every API answer formats a few
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds") + "Z"


# Output times always leave as `...Z`; input times must carry an offset (AwareDatetime refuses naive ones).
Time = Annotated[AwareDatetime, PlainSerializer(format_time, return_type=str, when_used="json")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Input(BaseModel):
    # unknown fields are refused so a typo ("schedule_at") never silently publishes now
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Media(_Input):
    """One media item, attached by URL."""

    type: Literal["image", "video"] = "image"
    url: str = Field(max_length=2048)

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError("media url must be an http(s) URL")
        return value


class PostCreate(_Input):
    """Body of POST /v1/posts and POST /v1/posts/validate."""

    caption: str = Field(default="", max_length=100_000)
    account_ids: list[str] = Field(min_length=1, max_length=MAX_TARGETS)
    scheduled_at: Time | None = None
    media: list[Media] = Field(default_factory=list, max_length=20)


class TargetError(_Model):
    """Why a target is retrying or failed."""

    code: str
    message: str
    retryable: bool = False
    platform_error: Any = None


class Target(_Model):
    """One account of a post and how far it got."""

    account_id: str
    platform: str
    status: TargetStatus
    permalink: str | None = None
    platform_post_id: str | None = None
    attempts: int = 0
    next_attempt_at: Time | None = None
    error: TargetError | None = None


class Post(_Model):
    """A post and its per-platform targets."""

    id: str
    status: PostStatus
    caption: str
    scheduled_at: Time | None = None
    media: list[Media] = Field(default_factory=list)
    targets: list[Target]
    created_at: Time
    updated_at: Time | None = None


class Validation(_Model):
    """Answer of POST /v1/posts/validate."""

    valid: bool
    details: list[dict[str, str]] = Field(default_factory=list)


class Account(_Model):
    """A connected social account."""

    id: str
    platform: str
    handle: str
    display_name: str = ""
    mode: Literal["live", "sandbox"]
    status: Literal["active", "expired", "disconnected"]
    created_at: Time | None = None


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


class AccountCreate(_Input):
    """Body of POST /v1/accounts: a sandbox account by handle, or a live one by credentials."""

    platform: str
    mode: Literal["live", "sandbox"] | None = None
    handle: str | None = Field(default=None, min_length=1, max_length=100)
    display_name: str | None = Field(default=None, max_length=200)
    credentials: dict[str, str] | None = None
    sandbox: SandboxFaults | None = None


class WebhookCreate(_Input):
    """Body of POST /v1/webhooks."""

    url: str = Field(min_length=8, max_length=2048)
    events: list[str] | None = None
    description: str | None = Field(default=None, max_length=500)


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
