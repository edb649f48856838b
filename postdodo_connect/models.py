"""Pydantic wire models: the JSON contract shared by the API, the client and the receiver.

The building blocks live in `models_base`, a post's content (versions, thread, create and edit bodies) in
`models_content`; both are re-exported here, the one place callers import from.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from .models_base import MAX_TARGETS as MAX_TARGETS
from .models_base import InputTime as InputTime
from .models_base import Line, Time, _Input, _Model, format_time
from .models_base import Text as Text
from .models_content import MAX_THREAD as MAX_THREAD
from .models_content import (
    Content,
    Media,
    Post,
    PostCreate,
    PostStatus,
    PostUpdate,
    Target,
    TargetError,
    TargetStatus,
    ThreadItem,
    ThreadItemProgress,
    ThreadProgress,
    Version,
)
from .models_content import (
    FirstComment as FirstComment,
)

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
    "ThreadItem",
    "ThreadItemProgress",
    "ThreadProgress",
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

EVENT_TYPES = (
    "post.scheduled",
    "post.published",
    "post.retrying",
    "post.failed",
    "post.completed",
    "post.canceled",
    "post.updated",
    "post.unpublished",
    "post.thread_published",
    "post.thread_failed",
    "account.disconnected",
    "account.expiring",
    "account.reconnected",
)
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
