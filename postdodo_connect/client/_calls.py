"""Every API call of the client as data: method, path, query, body, Idempotency-Key and how to read the answer.

The blocking resources and the asyncio ones send the same ``Call``s, so both speak the API identically.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from ..errors import PostDodoError
from ..models import (
    Account,
    ConnectSession,
    Delivery,
    Event,
    Media,
    Post,
    Redelivery,
    ThreadItem,
    UnpublishPlan,
    Validation,
    Version,
    WebhookEndpoint,
    WebhookTest,
    format_time,
)

__all__ = [
    "FINAL_POST_STATUSES",
    "MAX_PAGE",
    "VIDEO_SUFFIXES",
    "Call",
    "ListCall",
    "WaitTimeout",
    "as_utc_text",
    "media_item",
    "media_with_alt",
    "update_body",
    "new_idempotency_key",
    "post_body",
    "thread_item",
    "wait_is_over",
]

T = TypeVar("T")
FINAL_POST_STATUSES = frozenset({"published", "partially_published", "failed", "canceled", "unpublished"})
MAX_PAGE = 100
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".avi", ".mkv")

TimeInput = datetime | str
MediaInput = str | Mapping[str, Any] | Media
#: a per-platform or per-account version: a `Version` or its JSON form
VersionInput = Mapping[str, Any] | Version
#: one thread item: its caption alone, a `ThreadItem`, or its JSON form ({"caption", "media"})
ThreadItemInput = str | Mapping[str, Any] | ThreadItem
WaitUntil = Literal["final", "published"]


class WaitTimeout(PostDodoError, TimeoutError):
    """``posts.wait`` gave up: the post did not get there in time; ``post`` is the last state seen."""

    def __init__(self, message: str, *, post: Post, until: str, timeout: float) -> None:
        super().__init__(message)
        self.post, self.until, self.timeout = post, until, timeout


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call and the model its answer becomes."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ListCall(Generic[T]):
    """A list endpoint, read page by page through ``next_cursor``; at most ``limit`` items (None: all)."""

    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    limit: int | None = None

    def page(self, cursor: str | None) -> Call[Any]:
        """The call that reads one page (the first when ``cursor`` is None)."""
        params = dict(self.params or {})
        if cursor:
            params["cursor"] = cursor
        return Call("GET", self.path, lambda page: page, params=params)

    def next_cursor(self, page: Any, seen: int) -> str | None:
        """The cursor of the page after ``page``, or None when the listing is done."""
        cursor = page.get("next_cursor")
        if not page.get("has_more") or not cursor or (self.limit is not None and seen >= self.limit):
            return None
        return str(cursor)


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
        raise ValueError(f"{name} has no timezone; add an offset (Z or +02:00)")
    return format_time(parsed)


def media_item(item: MediaInput) -> dict[str, Any]:
    """One media entry as the API wants it: a bare URL becomes ``{"type", "url"}`` (video guessed by suffix)."""
    if isinstance(item, Media):
        return item.model_dump(exclude_none=True)
    if isinstance(item, str):
        path = item.split("?", 1)[0].lower()
        return {"type": "video" if path.endswith(VIDEO_SUFFIXES) else "image", "url": item}
    if isinstance(item, Mapping):
        return dict(item)
    raise TypeError(f"media items are URLs or {{'type', 'url'}} mappings, not {type(item).__name__}")


def media_with_alt(urls: Sequence[str], alts: Sequence[str | None] = ()) -> builtins.list[dict[str, Any]]:
    """Media URLs as API entries, each with the alt text in the same place (an empty alt text: none)."""
    if len(alts) > len(urls):
        raise ValueError(f"{len(alts)} alt texts for {len(urls)} media URLs: give at most one per media URL, in order")
    items = [media_item(url) for url in urls]
    for item, alt in zip(items, alts, strict=False):
        if alt is not None and alt.strip():
            item["alt"] = alt.strip()
    return items


def post_body(
    caption: str,
    account_ids: str | Iterable[str],
    scheduled_at: TimeInput | None = None,
    media: Sequence[MediaInput] | None = None,
    **versions: Any,
) -> dict[str, Any]:
    """The JSON body of POST /v1/posts and /v1/posts/validate (`versions`: platforms, accounts, first_comment, thread)."""
    ids = [account_ids] if isinstance(account_ids, str) else builtins.list(account_ids)
    body: dict[str, Any] = {"caption": caption, "account_ids": ids}
    if scheduled_at is not None:
        body["scheduled_at"] = as_utc_text(scheduled_at)
    if media:
        body["media"] = [media_item(m) for m in media]
    return body | version_fields(**versions)


def version_fields(platforms: Mapping[str, VersionInput] | None = None, accounts: Mapping[str, VersionInput] | None = None,
                   first_comment: str | None = None, thread: Sequence[ThreadItemInput] | None = None) -> dict[str, Any]:
    """The versions part of a post body, only what was given."""
    body: dict[str, Any] = {}
    for name, given in (("platforms", platforms), ("accounts", accounts)):
        if given is not None:
            body[name] = {key: _version(v) for key, v in given.items()}
    if first_comment is not None:
        body["first_comment"] = first_comment
    if thread is not None:
        body["thread"] = [thread_item(item) for item in thread]
    return body


def thread_item(item: ThreadItemInput) -> dict[str, Any]:
    """One thread item as the API wants it: a bare string is its caption; media as in ``media_item``."""
    if isinstance(item, str):
        return {"caption": item}
    data = item.model_dump(mode="json", exclude_none=True) if isinstance(item, ThreadItem) else dict(item)
    if data.get("media") is not None:
        data["media"] = [media_item(m) for m in data["media"]]
    return data


def _version(version: VersionInput) -> dict[str, Any]:
    data = version.model_dump(mode="json", exclude_none=True) if isinstance(version, Version) else dict(version)
    if data.get("media") is not None:
        data["media"] = [media_item(m) for m in data["media"]]
    if data.get("thread") is not None:
        data["thread"] = [thread_item(item) for item in data["thread"]]
    return data


def update_body(caption: str | None, account_ids: str | Iterable[str] | None, scheduled_at: TimeInput | None,
                media: Sequence[MediaInput] | None, **versions: Any) -> dict[str, Any]:
    """The JSON body of PATCH /v1/posts/:id: only the fields given."""
    body: dict[str, Any] = {}
    if caption is not None:
        body["caption"] = caption
    if account_ids is not None:
        body["account_ids"] = [account_ids] if isinstance(account_ids, str) else builtins.list(account_ids)
    if scheduled_at is not None:
        body["scheduled_at"] = as_utc_text(scheduled_at)
    if media is not None:
        body["media"] = [media_item(m) for m in media]
    return body | version_fields(**versions)


def wait_is_over(post: Post, until: WaitUntil) -> bool:
    """Whether ``posts.wait`` may return this state of the post."""
    if post.status in FINAL_POST_STATUSES:
        return True
    return until == "published" and any(t.status == "confirmed" for t in post.targets)


def check_wait(until: str) -> None:
    """ValueError for an unknown ``until``."""
    if until not in ("final", "published"):
        raise ValueError('until must be "final" or "published"')


def wait_timeout(post: Post, until: str, timeout: float) -> WaitTimeout:
    """The error ``posts.wait`` raises when time is up."""
    return WaitTimeout(f"post {post.id} is still {post.status} after {timeout:g}s (waiting for {until})",
                       post=post, until=until, timeout=timeout)


# -- accounts ----------------------------------------------------------------------------------------------

def list_accounts() -> ListCall[Account]:
    """GET /v1/accounts, every page."""
    return ListCall("/v1/accounts", Account.model_validate)


def create_account(platform: str, handle: str | None, credentials: dict[str, str] | None,
                   sandbox: dict[str, Any] | None, display_name: str | None,
                   idempotency_key: str | None) -> Call[Account]:
    """POST /v1/accounts: a sandbox account by handle (pd_test_ keys), a live one by credentials."""
    body: dict[str, Any] = {"platform": platform}
    body |= {k: v for k, v in (("handle", handle), ("credentials", credentials), ("sandbox", sandbox),
                               ("display_name", display_name)) if v is not None}
    return Call("POST", "/v1/accounts", Account.model_validate, json=body,
                idempotency_key=idempotency_key or new_idempotency_key())


def delete_account(account_id: str) -> Call[Account]:
    """DELETE /v1/accounts/:id."""
    return Call("DELETE", f"/v1/accounts/{_segment(account_id)}", Account.model_validate)


# -- posts -------------------------------------------------------------------------------------------------

def create_post(caption: str, account_ids: str | Iterable[str], scheduled_at: TimeInput | None,
                media: Sequence[MediaInput] | None, idempotency_key: str | None, **versions: Any) -> Call[Post]:
    """POST /v1/posts, always with an Idempotency-Key so that a retry cannot post twice."""
    return Call("POST", "/v1/posts", Post.model_validate,
                json=post_body(caption, account_ids, scheduled_at, media, **versions),
                idempotency_key=idempotency_key or new_idempotency_key())


def update_post(post_id: str, body: dict[str, Any], idempotency_key: str | None) -> Call[Post]:
    """PATCH /v1/posts/:id, with an Idempotency-Key so that a retried edit applies (and notifies) once."""
    return Call("PATCH", f"/v1/posts/{_segment(post_id)}", Post.model_validate, json=body,
                idempotency_key=idempotency_key or new_idempotency_key())


def validate_post(caption: str, account_ids: str | Iterable[str], scheduled_at: TimeInput | None,
                  media: Sequence[MediaInput] | None) -> Call[Validation]:
    """POST /v1/posts/validate."""
    # validation creates nothing, so the key only makes the call safe to retry
    return Call("POST", "/v1/posts/validate", Validation.model_validate,
                json=post_body(caption, account_ids, scheduled_at, media), idempotency_key=new_idempotency_key())


def get_post(post_id: str) -> Call[Post]:
    """GET /v1/posts/:id."""
    return Call("GET", f"/v1/posts/{_segment(post_id)}", Post.model_validate)


def cancel_post(post_id: str) -> Call[Post]:
    """DELETE /v1/posts/:id."""
    return Call("DELETE", f"/v1/posts/{_segment(post_id)}", Post.model_validate)


def unpublish_post(post_id: str) -> Call[UnpublishPlan]:
    """POST /v1/posts/:id/unpublish."""
    return Call("POST", f"/v1/posts/{_segment(post_id)}/unpublish", UnpublishPlan.model_validate)


def list_posts(status: str | None, account_id: str | None, limit: int | None,
               page_size: int | None) -> ListCall[Post]:
    """GET /v1/posts newest first; ``limit`` caps the items, ``page_size`` the items per request."""
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    size = page_size or min(MAX_PAGE, limit or MAX_PAGE)
    params = {"status": status, "account_id": account_id, "limit": max(1, min(MAX_PAGE, size))}
    return ListCall("/v1/posts", Post.model_validate, params, limit)


# -- webhooks and events -----------------------------------------------------------------------------------

def create_webhook(url: str, events: Sequence[str] | None, description: str | None,
                   idempotency_key: str | None) -> Call[WebhookEndpoint]:
    """POST /v1/webhooks."""
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = builtins.list(events)
    if description is not None:
        body["description"] = description
    return Call("POST", "/v1/webhooks", WebhookEndpoint.model_validate, json=body,
                idempotency_key=idempotency_key or new_idempotency_key())


def list_webhooks() -> ListCall[WebhookEndpoint]:
    """GET /v1/webhooks, every page."""
    return ListCall("/v1/webhooks", WebhookEndpoint.model_validate)


def webhook_call(method: str, endpoint_id: str, action: str = "", json: Any = None) -> Call[WebhookEndpoint]:
    """GET or DELETE /v1/webhooks/:id, or POST one of its actions (rotate, enable)."""
    suffix = f"/{action}" if action else ""
    return Call(method, f"/v1/webhooks/{_segment(endpoint_id)}{suffix}", WebhookEndpoint.model_validate, json=json)


def test_webhook(endpoint_id: str) -> Call[WebhookTest]:
    """POST /v1/webhooks/:id/test."""
    return Call("POST", f"/v1/webhooks/{_segment(endpoint_id)}/test", WebhookTest.model_validate)


test_webhook.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, whatever its name says


def list_deliveries(endpoint_id: str, status: str | None, limit: int | None) -> ListCall[Delivery]:
    """GET /v1/webhooks/:id/deliveries newest first."""
    params = {"status": status, "limit": min(MAX_PAGE, limit or MAX_PAGE)}
    return ListCall(f"/v1/webhooks/{_segment(endpoint_id)}/deliveries", Delivery.model_validate, params, limit)


def list_events(event_type: str | None, post_id: str | None, limit: int | None) -> ListCall[Event]:
    """GET /v1/events oldest first (the order they happened)."""
    params = {"type": event_type, "post_id": post_id, "limit": min(MAX_PAGE, limit or MAX_PAGE)}
    return ListCall("/v1/events", Event.model_validate, params, limit)


def get_event(event_id: str) -> Call[Event]:
    """GET /v1/events/:id."""
    return Call("GET", f"/v1/events/{_segment(event_id)}", Event.model_validate)


def redeliver(event_id: str, endpoint_id: str | None) -> Call[Redelivery]:
    """POST /v1/events/:id/redeliver."""
    return Call("POST", f"/v1/events/{_segment(event_id)}/redeliver", Redelivery.model_validate,
                params={"endpoint_id": endpoint_id})


def start_connect(platform: str, redirect_url: str, account_id: str | None,
                  options: Mapping[str, str] | None) -> Call[ConnectSession]:
    """POST /v1/connect."""
    body: dict[str, Any] = {"platform": platform, "redirect_url": redirect_url}
    if account_id is not None:
        body["account_id"] = account_id
    if options:
        body["options"] = dict(options)
    return Call("POST", "/v1/connect", ConnectSession.model_validate, json=body)


def get_connect(session_id: str) -> Call[ConnectSession]:
    """GET /v1/connect/:id."""
    return Call("GET", f"/v1/connect/{_segment(session_id)}", ConnectSession.model_validate)


def select_connect(session_id: str, option_ids: str | Iterable[str]) -> Call[ConnectSession]:
    """POST /v1/connect/:id/select."""
    ids = [option_ids] if isinstance(option_ids, str) else builtins.list(option_ids)
    return Call("POST", f"/v1/connect/{_segment(session_id)}/select", ConnectSession.model_validate,
                json={"option_ids": ids})
