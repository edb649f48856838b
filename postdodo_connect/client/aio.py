"""The asyncio client: ``AsyncClient(api_key, base_url, session=...)`` on an ``aiohttp.ClientSession``.

The same resources, calls, retries and error mapping as the blocking ``Client`` (both send the calls of
``_calls`` and read answers through ``_wire``). aiohttp is imported only when a request is made, so the
lean install does not need it: ``pip install 'postdodo-connect[async]'`` adds it. Pass the application's
own session (Home Assistant: ``async_get_clientsession(hass)``); without one the client opens its own and
``close()`` ends it. See docs/client.md.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

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
from ._aio_http import AsyncTransport, Sleep
from ._calls import MediaInput, ThreadItemInput, TimeInput, VersionInput, WaitUntil
from ._wire import ResponseInfo, client_settings

if TYPE_CHECKING:
    import aiohttp

# AsyncTransport lives in _aio_http (this module would be over 400 lines); importable from here as before
__all__ = ["AsyncAccounts", "AsyncClient", "AsyncConnect", "AsyncEvents", "AsyncPosts", "AsyncTransport", "AsyncWebhooks"]


class _Resource:
    def __init__(self, transport: AsyncTransport) -> None:
        self._t = transport


class AsyncAccounts(_Resource):
    """Connected social accounts."""

    async def list(self) -> builtins.list[Account]:
        """Every account of the workspace."""
        return [account async for account in self._t.pages(calls.list_accounts())]

    async def create(
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
        return await self._t.call(calls.create_account(platform, handle, credentials, sandbox, display_name,
                                                       idempotency_key))

    async def delete(self, account_id: str) -> Account:
        """Disconnect an account."""
        return await self._t.call(calls.delete_account(account_id))


class AsyncPosts(_Resource):
    """Create, validate, read, list, cancel, unpublish and wait for posts."""

    async def create(
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
        return await self._t.call(calls.create_post(caption, account_ids, scheduled_at, media, idempotency_key,
                                                    platforms=platforms, accounts=accounts,
                                                    first_comment=first_comment, thread=thread))

    async def update(
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
        return await self._t.call(calls.update_post(post_id, body, idempotency_key))

    async def validate(
        self,
        caption: str,
        account_ids: str | Iterable[str],
        scheduled_at: TimeInput | None = None,
        media: Sequence[MediaInput] | None = None,
    ) -> Validation:
        """Dry run of create: every problem the post would meet, nothing created."""
        return await self._t.call(calls.validate_post(caption, account_ids, scheduled_at, media))

    async def get(self, post_id: str) -> Post:
        """One post with its targets."""
        return await self._t.call(calls.get_post(post_id))

    async def cancel(self, post_id: str) -> Post:
        """Cancel every target that has not started; ConflictError when none is left."""
        return await self._t.call(calls.cancel_post(post_id))

    async def unpublish(self, post_id: str) -> UnpublishPlan:
        """Delete the published post where each platform allows it (runs on the server); the plan per target."""
        return await self._t.call(calls.unpublish_post(post_id))

    def list(
        self,
        status: str | None = None,
        account_id: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Post]:
        """Posts newest first (``async for``), following cursors lazily; ``limit`` caps how many in total."""
        return self._t.pages(calls.list_posts(status, account_id, limit, page_size))

    async def wait(self, post_id: str, until: WaitUntil = "final", timeout: float = 60.0,
                   interval: float = 1.0) -> Post:
        """Poll until the post is final or, with ``until="published"``, until a first target is confirmed.

        Raises WaitTimeout after ``timeout`` seconds.
        """
        calls.check_wait(until)
        deadline = time.monotonic() + timeout
        while True:
            post = await self.get(post_id)
            if calls.wait_is_over(post, until):
                return post
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise calls.wait_timeout(post, until, timeout)
            await self._t.sleep(min(interval, remaining))


class AsyncWebhooks(_Resource):
    """Webhook endpoints: register, list, rotate secrets, test, inspect deliveries."""

    async def create(
        self,
        url: str,
        events: Sequence[str] | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpoint:
        """Register an endpoint; the answer carries its ``secret``, shown this once."""
        return await self._t.call(calls.create_webhook(url, events, description, idempotency_key))

    async def list(self) -> builtins.list[WebhookEndpoint]:
        """Every endpoint of the workspace (no secrets)."""
        return [endpoint async for endpoint in self._t.pages(calls.list_webhooks())]

    async def get(self, endpoint_id: str) -> WebhookEndpoint:
        """One endpoint."""
        return await self._t.call(calls.webhook_call("GET", endpoint_id))

    async def delete(self, endpoint_id: str) -> WebhookEndpoint:
        """Remove an endpoint; its pending deliveries stop."""
        return await self._t.call(calls.webhook_call("DELETE", endpoint_id))

    async def rotate(self, endpoint_id: str, expire_now: bool = False) -> WebhookEndpoint:
        """A new secret (in the answer); the old one keeps signing for 24 h unless ``expire_now``."""
        return await self._t.call(calls.webhook_call("POST", endpoint_id, "rotate", {"expire_now": expire_now}))

    async def test(self, endpoint_id: str) -> WebhookTest:
        """Send a webhook.test event through the normal delivery path."""
        return await self._t.call(calls.test_webhook(endpoint_id))

    async def enable(self, endpoint_id: str) -> WebhookEndpoint:
        """Re-enable an endpoint that was disabled (after a 410 or days of failures)."""
        return await self._t.call(calls.webhook_call("POST", endpoint_id, "enable"))

    async def deliveries(self, endpoint_id: str, status: str | None = None,
                         limit: int | None = 100) -> builtins.list[Delivery]:
        """The endpoint's deliveries, newest first, each with its attempts; at most ``limit`` (None: all)."""
        return [d async for d in self._t.pages(calls.list_deliveries(endpoint_id, status, limit))]


class AsyncEvents(_Resource):
    """Events that were sent to webhooks."""

    async def list(self, type: str | None = None, post_id: str | None = None,  # noqa: A002 - the API's name
                   limit: int | None = 100) -> builtins.list[Event]:
        """The workspace's events oldest first (the order they happened); at most ``limit`` (None: all)."""
        return [event async for event in self._t.pages(calls.list_events(type, post_id, limit))]

    async def get(self, event_id: str) -> Event:
        """One event."""
        return await self._t.call(calls.get_event(event_id))

    async def redeliver(self, event_id: str, endpoint_id: str | None = None) -> Redelivery:
        """Send an event again (same id) to every endpoint subscribed to it now, or to ``endpoint_id`` only."""
        return await self._t.call(calls.redeliver(event_id, endpoint_id))


class AsyncConnect(_Resource):
    """Connect sessions: a link to the platform's consent screen (or PostDodo's form), then the accounts."""

    async def start(self, platform: str, redirect_url: str, *, account_id: str | None = None,
                    options: dict[str, str] | None = None) -> ConnectSession:
        """Start a session; send the user's browser to its ``url`` (``account_id``: reconnect that account)."""
        return await self._t.call(calls.start_connect(platform, redirect_url, account_id, options))

    async def get(self, session_id: str) -> ConnectSession:
        """A session's status, the picker's ``options`` and, once completed, its ``account_ids``."""
        return await self._t.call(calls.get_connect(session_id))

    async def select(self, session_id: str, option_ids: str | builtins.list[str]) -> ConnectSession:
        """Create the accounts picked among a session's options."""
        return await self._t.call(calls.select_connect(session_id, option_ids))


class AsyncClient:
    """A PostDodo API client for asyncio; the key comes from ``POSTDODO_API_KEY`` and the URL from
    ``POSTDODO_BASE_URL`` when not given.

    ``session`` is the caller's ``aiohttp.ClientSession`` (never closed by the client); ``sleep`` replaces
    ``asyncio.sleep`` for retries and ``posts.wait``; ``user_agent`` names the application calling.
    """

    accounts: AsyncAccounts
    posts: AsyncPosts
    webhooks: AsyncWebhooks
    events: AsyncEvents
    connect: AsyncConnect

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        session: aiohttp.ClientSession | None = None,
        max_retries: int = 3,
        *,
        sleep: Sleep | None = None,
        max_retry_wait: float = 60.0,
        user_agent: str | None = None,
    ) -> None:
        key, url = client_settings(api_key, base_url)
        self._transport = AsyncTransport(key, url, session=session, timeout=timeout, max_retries=max_retries,
                                         sleep=sleep, max_retry_wait=max_retry_wait, agent=user_agent)
        self.accounts = AsyncAccounts(self._transport)
        self.posts = AsyncPosts(self._transport)
        self.webhooks = AsyncWebhooks(self._transport)
        self.events = AsyncEvents(self._transport)
        self.connect = AsyncConnect(self._transport)

    @property
    def base_url(self) -> str:
        """The API root this client talks to (without ``/v1``)."""
        return self._transport.base_url

    @property
    def last_response(self) -> ResponseInfo | None:
        """Status, headers, request id and replay flag of the client's last API answer."""
        return self._transport.last_response

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                      idempotency_key: str | None = None) -> Any:
        """Any API call (``path`` from ``/v1``) with the same auth, retries and errors; the decoded JSON answer.

        For fields this client version has no argument for yet; without an Idempotency-Key a POST is not retried.
        """
        return await self._transport.request(method, path, params=params, json=json, idempotency_key=idempotency_key)

    async def close(self) -> None:
        """Close the HTTP session when the client opened it (an injected session stays open)."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        # never the key: reprs end up in logs and tracebacks
        return f"<postdodo AsyncClient {self.base_url}>"
