"""The asyncio transport: HTTP on an aiohttp session with the bearer key, retries and one error mapping.

aiohttp is imported only when a request is made, so the lean install does not need it (see ``aio``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import APIConnectionError, ConfigurationError
from ._calls import Call, ListCall
from ._wire import (
    SAFE_METHODS,
    ResponseInfo,
    RetryPolicy,
    cannot_reach,
    clean_params,
    decode_answer,
    normalize_base_url,
    request_headers,
    response_info,
    user_agent,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AsyncTransport", "Sleep"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


def _aiohttp() -> ModuleType:
    """aiohttp, imported on first use (the lean install has no aiohttp)."""
    try:
        import aiohttp
    except ImportError as exc:  # pragma: no cover - only without the [async] extra
        raise ConfigurationError("AsyncClient needs aiohttp: pip install 'postdodo-connect[async]'") from exc
    return aiohttp


class AsyncTransport:
    """HTTP on an aiohttp session with the bearer key, JSON in and out, retries, failures mapped once."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        sleep: Sleep | None = None,
        max_retry_wait: float = 60.0,
        agent: str | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.retry = RetryPolicy(max_retries, max_retry_wait)
        self.api_key = api_key
        self.timeout = timeout
        self.session = session
        self._own_session = session is None
        self.sleep: Sleep = sleep if sleep is not None else asyncio.sleep
        self.user_agent = agent or user_agent()
        self.last_response: ResponseInfo | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = _aiohttp().ClientSession()  # made inside the running loop, on first use
        return self.session

    async def close(self) -> None:
        """Close the session if the transport made it."""
        if self._own_session and self.session is not None:
            await self.session.close()
            self.session = None

    async def call(self, call: Call[T]) -> T:
        """Send one call and read its answer into its model."""
        return call.parse(await self.request(call.method, call.path, params=call.params, json=call.json,
                                             idempotency_key=call.idempotency_key))

    async def pages(self, listing: ListCall[T]) -> AsyncIterator[T]:
        """Every item of a list endpoint, following next_cursor lazily; at most ``listing.limit`` items."""
        if listing.limit == 0:
            return
        seen, cursor = 0, None
        while True:
            page = await self.call(listing.page(cursor))
            for item in page.get("data", []):
                if listing.limit is not None and seen >= listing.limit:
                    return
                seen += 1
                yield listing.parse(item)
            cursor = listing.next_cursor(page, seen)
            if cursor is None:
                return

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one API call (retrying when that is safe) and return its decoded JSON body."""
        aiohttp = _aiohttp()
        # nothing came back, or the answer broke off: worth another try when the call may repeat
        transient = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)
        method = method.upper()
        url = self.base_url + path
        headers = request_headers(self.api_key, self.user_agent, idempotency_key)
        query = clean_params(params)
        repeatable = method in SAFE_METHODS or idempotency_key is not None
        session = self._session()
        attempt = 0
        while True:
            try:
                async with session.request(method, url, params=query or None, json=json, headers=headers,
                                           timeout=aiohttp.ClientTimeout(total=self.timeout),
                                           allow_redirects=False) as response:
                    status, answer_headers, body = response.status, response.headers, await response.read()
                    answer_url = str(response.url)
            except transient as exc:
                wait = self.retry.after_failure(attempt, repeatable)
                if wait is not None:
                    await self.sleep(wait)
                    attempt += 1
                    continue
                raise APIConnectionError(cannot_reach(self.base_url, exc)) from exc
            except aiohttp.ClientError as exc:  # a malformed URL or the like: trying again cannot help
                raise APIConnectionError(f"request to {url} failed: {type(exc).__name__}: {exc}") from exc
            wait = self.retry.after_answer(status, answer_headers, attempt, repeatable)
            if wait is None:
                self.last_response = response_info(status, answer_headers)
                return decode_answer(status, answer_headers, body, method, answer_url, self.base_url)
            await self.sleep(wait)
            attempt += 1
