"""The resources of the blocking client: accounts, posts, webhooks and events, each a thin typed layer that sends
the calls of ``_calls`` through the transport."""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ..models import (
    Account,
    ConnectSession,
    Delivery,
    Event,
    Post,
    Redelivery,
    UnpublishPlan,
    Validation,
    WebhookEndpoint,
    WebhookTest,
)
from . import _calls as calls
from ._calls import (
    FINAL_POST_STATUSES,
    VIDEO_SUFFIXES,
    MediaInput,
    ThreadItemInput,
    TimeInput,
    VersionInput,
    WaitTimeout,
    WaitUntil,
    as_utc_text,
    media_item,
    media_with_alt,
    new_idempotency_key,
    post_body,
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
    "as_utc_text",
    "media_item",
    "media_with_alt",
    "new_idempotency_key",
    "post_body",
]


class _Resource:
    def __init__(self, transport: Transport) -> None:
        self._t = transport


class Accounts(_Resource):
    """Connected social accounts."""

    def list(self) -> builtins.list[Account]:
        """Every account of the workspace."""
        return builtins.list(self._t.pages(calls.list_accounts()))

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
        return self._t.call(calls.create_account(platform, handle, credentials, sandbox, display_name,
                                                 idempotency_key))

    def delete(self, account_id: str) -> Account:
        """Disconnect an account."""
        return self._t.call(calls.delete_account(account_id))


class Posts(_Resource):
    """Create, validate, read, list, cancel, unpublish and wait for posts."""

    def create(
        self,
        caption: str,
        account_ids: str | Iterable[str],
        scheduled_at: TimeInput | None = None,
        media: Sequence[MediaInput] | None = None,
        idempotency_key: str | None = None,
        *,
        platforms: Mapping[str, VersionInput] | None = None,
        accounts: Mapping[str, VersionInput] | None = None,
        first_comment: str | None = None,
        thread: Sequence[ThreadItemInput] | None = None,
    ) -> Post:
        """Create a post (now, or at an aware ``scheduled_at``); always sent with an Idempotency-Key.

        ``platforms``/``accounts``: versions per platform or account (caption, media, options, thread).
        ``thread``: the posts after the first, replies in order (X, Bluesky, Threads, Mastodon).
        """
        return self._t.call(calls.create_post(caption, account_ids, scheduled_at, media, idempotency_key,
                                              platforms=platforms, accounts=accounts, first_comment=first_comment,
                                              thread=thread))

    def update(
        self,
        post_id: str,
        *,
        caption: str | None = None,
        account_ids: str | Iterable[str] | None = None,
        scheduled_at: TimeInput | None = None,
        media: Sequence[MediaInput] | None = None,
        platforms: Mapping[str, VersionInput] | None = None,
        accounts: Mapping[str, VersionInput] | None = None,
        first_comment: str | None = None,
        thread: Sequence[ThreadItemInput] | None = None,
        idempotency_key: str | None = None,
    ) -> Post:
        """Edit a post no target of which has started (only the fields given); ConflictError once one has."""
        body = calls.update_body(caption, account_ids, scheduled_at, media, platforms=platforms, accounts=accounts,
                                 first_comment=first_comment, thread=thread)
        return self._t.call(calls.update_post(post_id, body, idempotency_key))

    def validate(
        self,
        caption: str,
        account_ids: str | Iterable[str],
        scheduled_at: TimeInput | None = None,
        media: Sequence[MediaInput] | None = None,
    ) -> Validation:
        """Dry run of create: every problem the post would meet, nothing created."""
        return self._t.call(calls.validate_post(caption, account_ids, scheduled_at, media))

    def get(self, post_id: str) -> Post:
        """One post with its targets."""
        return self._t.call(calls.get_post(post_id))

    def cancel(self, post_id: str) -> Post:
        """Cancel every target that has not started; ConflictError when none is left."""
        return self._t.call(calls.cancel_post(post_id))

    def unpublish(self, post_id: str) -> UnpublishPlan:
        """Delete the published post where each platform allows it (runs on the server); the plan per target."""
        return self._t.call(calls.unpublish_post(post_id))

    def list(
        self,
        status: str | None = None,
        account_id: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> Iterator[Post]:
        """Posts newest first, following cursors lazily; ``limit`` caps how many are yielded in total."""
        return self._t.pages(calls.list_posts(status, account_id, limit, page_size))

    def wait(self, post_id: str, until: WaitUntil = "final", timeout: float = 60.0, interval: float = 1.0) -> Post:
        """Poll until the post is final (every target confirmed, failed or canceled) or, with
        ``until="published"``, until a first target is confirmed (or the post is final anyway).

        Raises WaitTimeout after ``timeout`` seconds.
        """
        calls.check_wait(until)
        deadline = time.monotonic() + timeout
        while True:
            post = self.get(post_id)
            if calls.wait_is_over(post, until):
                return post
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise calls.wait_timeout(post, until, timeout)
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
        return self._t.call(calls.create_webhook(url, events, description, idempotency_key))

    def list(self) -> builtins.list[WebhookEndpoint]:
        """Every endpoint of the workspace (no secrets)."""
        return builtins.list(self._t.pages(calls.list_webhooks()))

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        """One endpoint."""
        return self._t.call(calls.webhook_call("GET", endpoint_id))

    def delete(self, endpoint_id: str) -> WebhookEndpoint:
        """Remove an endpoint; its pending deliveries stop."""
        return self._t.call(calls.webhook_call("DELETE", endpoint_id))

    def rotate(self, endpoint_id: str, expire_now: bool = False) -> WebhookEndpoint:
        """A new secret (in the answer); the old one keeps signing for 24 h unless ``expire_now``."""
        return self._t.call(calls.webhook_call("POST", endpoint_id, "rotate", {"expire_now": expire_now}))

    def test(self, endpoint_id: str) -> WebhookTest:
        """Send a webhook.test event through the normal delivery path."""
        return self._t.call(calls.test_webhook(endpoint_id))

    def enable(self, endpoint_id: str) -> WebhookEndpoint:
        """Re-enable an endpoint that was disabled (after a 410 or days of failures)."""
        return self._t.call(calls.webhook_call("POST", endpoint_id, "enable"))

    def deliveries(self, endpoint_id: str, status: str | None = None, limit: int | None = 100) -> builtins.list[Delivery]:
        """The endpoint's deliveries, newest first, each with its attempts; at most ``limit`` (None: all)."""
        return builtins.list(self._t.pages(calls.list_deliveries(endpoint_id, status, limit)))


class Events(_Resource):
    """Events that were sent to webhooks."""

    def list(self, type: str | None = None, post_id: str | None = None,  # noqa: A002 - the API's name
             limit: int | None = 100) -> builtins.list[Event]:
        """The workspace's events oldest first (the order they happened); at most ``limit`` (None: all)."""
        return builtins.list(self._t.pages(calls.list_events(type, post_id, limit)))

    def get(self, event_id: str) -> Event:
        """One event."""
        return self._t.call(calls.get_event(event_id))

    def redeliver(self, event_id: str, endpoint_id: str | None = None) -> Redelivery:
        """Send an event again (same id) to every endpoint subscribed to it now, or to ``endpoint_id`` only."""
        return self._t.call(calls.redeliver(event_id, endpoint_id))


class Connect(_Resource):
    """Connect sessions: a link to the platform's consent screen (or PostDodo's form), then the accounts."""

    def start(self, platform: str, redirect_url: str, *, account_id: str | None = None,
              options: dict[str, str] | None = None) -> ConnectSession:
        """Start a session; send the user's browser to its ``url`` (``account_id``: reconnect that account)."""
        return self._t.call(calls.start_connect(platform, redirect_url, account_id, options))

    def get(self, session_id: str) -> ConnectSession:
        """A session's status, the picker's ``options`` and, once completed, its ``account_ids``."""
        return self._t.call(calls.get_connect(session_id))

    def select(self, session_id: str, option_ids: str | builtins.list[str]) -> ConnectSession:
        """Create the accounts picked among a session's options."""
        return self._t.call(calls.select_connect(session_id, option_ids))
