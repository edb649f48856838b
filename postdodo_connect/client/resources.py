"""The resources of the client: accounts, posts, webhooks and events, each a thin typed layer over the transport."""

from __future__ import annotations

import builtins
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from ..errors import PostDodoError
from ..models import (
    Account,
    Delivery,
    Media,
    Post,
    Redelivery,
    Validation,
    WebhookEndpoint,
    WebhookTest,
    format_time,
)
from ._http import Transport

__all__ = [
    "FINAL_POST_STATUSES",
    "VIDEO_SUFFIXES",
    "Accounts",
    "Events",
    "Posts",
    "WaitTimeout",
    "Webhooks",
    "new_idempotency_key",
]

FINAL_POST_STATUSES = frozenset({"published", "partially_published", "failed", "canceled"})
MAX_PAGE = 100
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv")

TimeInput = datetime | str
MediaInput = str | Mapping[str, Any] | Media


class WaitTimeout(PostDodoError, TimeoutError):
    """``posts.wait`` gave up: the post did not get there in time; ``post`` is the last state seen."""

    def __init__(self, message: str, *, post: Post, until: str, timeout: float) -> None:
        super().__init__(message)
        self.post, self.until, self.timeout = post, until, timeout


def new_idempotency_key() -> str:
    """A fresh random Idempotency-Key."""
    return str(uuid.uuid4())


def _segment(value: str) -> str:
    """An id as one URL path segment (an id with a slash must not reach another route)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"an id must be a non-empty string, not {value!r}")
    return quote(value, safe="")


def as_utc_text(value: TimeInput, name: str = "scheduled_at") -> str:
    """A datetime or ISO 8601 string as the API's UTC text; a time without an offset is refused."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{name} {value!r} is not an ISO 8601 time like 2030-01-31T09:00:00Z") from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise TypeError(f"{name} must be a datetime or an ISO 8601 string, not {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{name} has no timezone; add an offset (Z or +02:00) or use an aware datetime")
    return format_time(parsed)


def media_item(item: MediaInput) -> dict[str, Any]:
    """One media entry as the API wants it: a bare URL becomes ``{"type", "url"}`` (video guessed by suffix)."""
    if isinstance(item, Media):
        return item.model_dump()
    if isinstance(item, str):
        path = item.split("?", 1)[0].lower()
        return {"type": "video" if path.endswith(VIDEO_SUFFIXES) else "image", "url": item}
    if isinstance(item, Mapping):
        return dict(item)
    raise TypeError(f"media items are URLs or {{'type', 'url'}} mappings, not {type(item).__name__}")


def post_body(
    caption: str,
    account_ids: str | Iterable[str],
    scheduled_at: TimeInput | None = None,
    media: Sequence[MediaInput] | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /v1/posts and /v1/posts/validate."""
    ids = [account_ids] if isinstance(account_ids, str) else builtins.list(account_ids)
    body: dict[str, Any] = {"caption": caption, "account_ids": ids}
    if scheduled_at is not None:
        body["scheduled_at"] = as_utc_text(scheduled_at)
    if media:
        body["media"] = [media_item(m) for m in media]
    return body


class _Resource:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _pages(self, path: str, params: dict[str, Any] | None = None, limit: int | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, following next_cursor; at most ``limit`` items."""
        params = dict(params or {})
        seen = 0
        while True:
            page = self._t.request("GET", path, params=params)
            for item in page.get("data", []):
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield item
            cursor = page.get("next_cursor")
            if not page.get("has_more") or not cursor or (limit is not None and seen >= limit):
                return
            params["cursor"] = cursor


class Accounts(_Resource):
    """Connected social accounts."""

    def list(self) -> builtins.list[Account]:
        """Every account of the workspace."""
        return [Account.model_validate(a) for a in self._pages("/v1/accounts")]

    def create(
        self,
        platform: str,
        *,
        handle: str | None = None,
        credentials: dict[str, str] | None = None,
        sandbox: dict[str, Any] | None = None,
        display_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Account:
        """Connect an account: a sandbox one by handle (pd_test_ keys), a live one by credentials."""
        body: dict[str, Any] = {"platform": platform}
        body |= {k: v for k, v in (("handle", handle), ("credentials", credentials), ("sandbox", sandbox),
                                   ("display_name", display_name)) if v is not None}
        key = idempotency_key or new_idempotency_key()
        return Account.model_validate(self._t.request("POST", "/v1/accounts", json=body, idempotency_key=key))

    def delete(self, account_id: str) -> Account:
        """Disconnect an account."""
        return Account.model_validate(self._t.request("DELETE", f"/v1/accounts/{account_id}"))


class Posts(_Resource):
    """Create, validate, read, list, cancel and wait for posts."""

    def create(
        self,
        caption: str,
        account_ids: str | Iterable[str],
        scheduled_at: TimeInput | None = None,
        media: Sequence[MediaInput] | None = None,
        idempotency_key: str | None = None,
    ) -> Post:
        """Create a post (now, or at an aware ``scheduled_at``); always sent with an Idempotency-Key."""
        body = post_body(caption, account_ids, scheduled_at, media)
        key = idempotency_key or new_idempotency_key()
        return Post.model_validate(self._t.request("POST", "/v1/posts", json=body, idempotency_key=key))

    def validate(
        self,
        caption: str,
        account_ids: str | Iterable[str],
        scheduled_at: TimeInput | None = None,
        media: Sequence[MediaInput] | None = None,
    ) -> Validation:
        """Dry run of create: every problem the post would meet, nothing created."""
        body = post_body(caption, account_ids, scheduled_at, media)
        # validation creates nothing, so the key only makes the call safe to retry
        data = self._t.request("POST", "/v1/posts/validate", json=body, idempotency_key=new_idempotency_key())
        return Validation.model_validate(data)

    def get(self, post_id: str) -> Post:
        """One post with its targets."""
        return Post.model_validate(self._t.request("GET", f"/v1/posts/{_segment(post_id)}"))

    def cancel(self, post_id: str) -> Post:
        """Cancel every target that has not started; ConflictError when none is left."""
        return Post.model_validate(self._t.request("DELETE", f"/v1/posts/{_segment(post_id)}"))

    def list(
        self,
        status: str | None = None,
        account_id: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[Post]:
        """Posts newest first, following cursors lazily; ``limit`` caps how many are yielded in total."""
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        if limit == 0:
            return iter(())
        size = page_size or min(MAX_PAGE, limit or MAX_PAGE)
        params = {"status": status, "account_id": account_id, "limit": max(1, min(MAX_PAGE, size))}
        return (Post.model_validate(p) for p in self._pages("/v1/posts", params, limit))

    def wait(
        self,
        post_id: str,
        until: Literal["final", "published"] = "final",
        timeout: float = 60.0,
        interval: float = 1.0,
    ) -> Post:
        """Poll until the post is final (every target confirmed, failed or canceled) or, with
        ``until="published"``, until a first target is confirmed (or the post is final anyway).

        Raises WaitTimeout after ``timeout`` seconds.
        """
        if until not in ("final", "published"):
            raise ValueError('until must be "final" or "published"')
        deadline = time.monotonic() + timeout
        while True:
            post = self.get(post_id)
            if post.status in FINAL_POST_STATUSES:
                return post
            if until == "published" and any(t.status == "confirmed" for t in post.targets):
                return post
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(f"post {post_id} is still {post.status} after {timeout:g}s (waiting for {until})",
                                  post=post, until=until, timeout=timeout)
            self._t.sleep(min(interval, remaining))


class Webhooks(_Resource):
    """Webhook endpoints: register, list, rotate secrets, test, inspect deliveries."""

    def create(
        self,
        url: str,
        events: Sequence[str] | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Register an endpoint; the answer carries its ``secret``, shown this once."""
        body: dict[str, Any] = {"url": url}
        if events is not None:
            body["events"] = builtins.list(events)
        if description is not None:
            body["description"] = description
        key = idempotency_key or new_idempotency_key()
        return WebhookEndpoint.model_validate(self._t.request("POST", "/v1/webhooks", json=body, idempotency_key=key))

    def list(self) -> builtins.list[WebhookEndpoint]:
        """Every endpoint of the workspace (no secrets)."""
        return [WebhookEndpoint.model_validate(w) for w in self._pages("/v1/webhooks")]

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        """One endpoint."""
        return WebhookEndpoint.model_validate(self._t.request("GET", f"/v1/webhooks/{_segment(endpoint_id)}"))

    def delete(self, endpoint_id: str) -> WebhookEndpoint:
        """Remove an endpoint; its pending deliveries stop."""
        return WebhookEndpoint.model_validate(self._t.request("DELETE", f"/v1/webhooks/{_segment(endpoint_id)}"))

    def rotate(self, endpoint_id: str, expire_now: bool = False) -> WebhookEndpoint:
        """A new secret (in the answer); the old one keeps signing for 24 h unless ``expire_now``."""
        data = self._t.request("POST", f"/v1/webhooks/{_segment(endpoint_id)}/rotate", json={"expire_now": expire_now})
        return WebhookEndpoint.model_validate(data)

    def test(self, endpoint_id: str) -> WebhookTest:
        """Send a webhook.test event through the normal delivery path."""
        return WebhookTest.model_validate(self._t.request("POST", f"/v1/webhooks/{_segment(endpoint_id)}/test"))

    def enable(self, endpoint_id: str) -> WebhookEndpoint:
        """Re-enable an endpoint that was disabled (after a 410 or days of failures)."""
        return WebhookEndpoint.model_validate(self._t.request("POST", f"/v1/webhooks/{_segment(endpoint_id)}/enable"))

    def deliveries(self, endpoint_id: str, status: str | None = None, limit: int | None = 100) -> builtins.list[Delivery]:
        """The endpoint's deliveries, newest first, each with its attempts; at most ``limit`` (None: all)."""
        params = {"status": status, "limit": min(MAX_PAGE, limit or MAX_PAGE)}
        pages = self._pages(f"/v1/webhooks/{_segment(endpoint_id)}/deliveries", params, limit)
        return [Delivery.model_validate(d) for d in pages]


class Events(_Resource):
    """Events that were sent to webhooks."""

    def redeliver(self, event_id: str, endpoint_id: str | None = None) -> Redelivery:
        """Send an event again (same id) to every endpoint subscribed to it now, or to ``endpoint_id`` only."""
        data = self._t.request("POST", f"/v1/events/{_segment(event_id)}/redeliver",
                               params={"endpoint_id": endpoint_id})
        return Redelivery.model_validate(data)
