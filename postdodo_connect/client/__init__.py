"""The PostDodo API client: ``Client(api_key, base_url)`` with accounts, posts, webhooks and events, and
``AsyncClient`` with the same resources for asyncio (on aiohttp, see ``aio``).

It imports nothing of the service (only ``models``, ``errors`` and ``signing`` of this package), so it
can talk to any PostDodo-compatible server, hosted or local. See docs/client.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests

from ._http import DEFAULT_BASE_URL, ResponseInfo, Transport, error_from_response, user_agent
from ._wire import client_settings
from .aio import AsyncClient
from .resources import FINAL_POST_STATUSES, Accounts, Connect, Events, Posts, WaitTimeout, Webhooks, new_idempotency_key

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncClient",
    "FINAL_POST_STATUSES",
    "Client",
    "ResponseInfo",
    "WaitTimeout",
    "error_from_response",
    "new_idempotency_key",
    "user_agent",
]


class Client:
    """A PostDodo API client; the key comes from ``POSTDODO_API_KEY`` and the URL from ``POSTDODO_BASE_URL``.

    ``session`` lets tests and callers bring their own ``requests.Session``; ``sleep`` replaces
    ``time.sleep`` for retries and ``posts.wait`` (tests pass a recorder).
    """

    accounts: Accounts
    posts: Posts
    webhooks: Webhooks
    events: Events
    connect: Connect

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        max_retries: int = 3,
        *,
        sleep: Callable[[float], None] | None = None,
        max_retry_wait: float = 60.0,
    ) -> None:
        key, url = client_settings(api_key, base_url)
        self._transport = Transport(key, url, timeout=timeout, session=session, max_retries=max_retries,
                                    sleep=sleep, max_retry_wait=max_retry_wait)
        self.accounts = Accounts(self._transport)
        self.posts = Posts(self._transport)
        self.webhooks = Webhooks(self._transport)
        self.events = Events(self._transport)
        self.connect = Connect(self._transport)

    @property
    def base_url(self) -> str:
        """The API root this client talks to (without ``/v1``)."""
        return self._transport.base_url

    @property
    def last_response(self) -> ResponseInfo | None:
        """Status, headers, request id and replay flag of this thread's last API answer."""
        return self._transport.last_response

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                idempotency_key: str | None = None) -> Any:
        """Any API call (``path`` from ``/v1``) with the same auth, retries and errors; the decoded JSON answer.

        For fields this client version has no argument for yet; without an Idempotency-Key a POST is not retried.
        """
        return self._transport.request(method, path, params=params, json=json, idempotency_key=idempotency_key)

    def close(self) -> None:
        """Release the HTTP session (when the client created it)."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        # never the key: reprs end up in logs and tracebacks
        return f"<postdodo Client {self.base_url}>"
