"""The blocking transport under every ``Client`` call: one requests session, retries, errors mapped once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import requests

from ..errors import APIConnectionError, APIError
from ..httpdate import parse_retry_after
from ._calls import Call, ListCall
from ._wire import (
    DEFAULT_BASE_URL,
    SAFE_METHODS,
    ResponseInfo,
    RetryPolicy,
    cannot_reach,
    clean_params,
    decode_answer,
    error_from_answer,
    normalize_base_url,
    request_headers,
    response_info,
    user_agent,
)

__all__ = ["DEFAULT_BASE_URL", "ResponseInfo", "Transport", "error_from_response", "parse_retry_after", "user_agent"]

T = TypeVar("T")
# failures worth another try: nothing came back, or the answer broke off
_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def error_from_response(response: requests.Response) -> APIError:
    """The APIError subclass for an error answer, keeping code, details and request id."""
    return error_from_answer(response.status_code, response.headers, response.content, response.request.method or "",
                             response.url)


class Transport:
    """HTTP with the bearer key, JSON in and out, retries, and one translation of failures into the error tree."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        max_retries: int = 3,
        sleep: Callable[[float], None] | None = None,
        max_retry_wait: float = 60.0,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.retry = RetryPolicy(max_retries, max_retry_wait, backoff, max_backoff,
                                 **({"jitter": jitter} if jitter is not None else {}))
        self.api_key = api_key
        self.timeout = timeout
        self.session = session or requests.Session()
        self._own_session = session is None
        self.sleep = sleep if sleep is not None else time.sleep
        self.user_agent = user_agent()
        self._local = threading.local()

    @property
    def max_retries(self) -> int:
        """How many times a call is tried again."""
        return self.retry.max_retries

    @property
    def last_response(self) -> ResponseInfo | None:
        """Status, headers and request id of this thread's last answer."""
        return getattr(self._local, "info", None)

    def close(self) -> None:
        """Close the session if the transport made it."""
        if self._own_session:
            self.session.close()

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter for retry number ``attempt`` (0-based)."""
        return self.retry.delay(attempt)

    def call(self, call: Call[T]) -> T:
        """Send one call and read its answer into its model."""
        return call.parse(self.request(call.method, call.path, params=call.params, json=call.json,
                                       idempotency_key=call.idempotency_key))

    def pages(self, listing: ListCall[T]) -> Iterator[T]:
        """Every item of a list endpoint, following next_cursor lazily; at most ``listing.limit`` items."""
        if listing.limit == 0:
            return
        seen, cursor = 0, None
        while True:
            page = self.call(listing.page(cursor))
            for item in page.get("data", []):
                if listing.limit is not None and seen >= listing.limit:
                    return
                seen += 1
                yield listing.parse(item)
            cursor = listing.next_cursor(page, seen)
            if cursor is None:
                return

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one API call (retrying when that is safe) and return its decoded JSON body."""
        method = method.upper()
        url = self.base_url + path
        headers = request_headers(self.api_key, self.user_agent, idempotency_key)
        query = clean_params(params)
        repeatable = method in SAFE_METHODS or idempotency_key is not None
        attempt = 0
        while True:
            try:
                response = self.session.request(method, url, params=query or None, json=json, headers=headers,
                                                timeout=self.timeout, allow_redirects=False)
            except _TRANSIENT as exc:
                wait = self.retry.after_failure(attempt, repeatable)
                if wait is not None:
                    self.sleep(wait)
                    attempt += 1
                    continue
                raise APIConnectionError(cannot_reach(self.base_url, exc)) from exc
            except requests.RequestException as exc:  # a malformed URL or the like: trying again cannot help
                raise APIConnectionError(f"request to {url} failed: {type(exc).__name__}: {exc}") from exc
            wait = self.retry.after_answer(response.status_code, response.headers, attempt, repeatable)
            if wait is None:
                self._local.info = response_info(response.status_code, response.headers)
                return decode_answer(response.status_code, response.headers, response.content, method,
                                     response.url, self.base_url)
            response.close()
            self.sleep(wait)
            attempt += 1
