"""The transport under every client call: one requests session, retries with backoff, errors mapped once."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import APIConnectionError, APIError, ConfigurationError, RateLimitError, error_class_for
from ..httpdate import parse_retry_after

__all__ = ["DEFAULT_BASE_URL", "ResponseInfo", "Transport", "error_from_response", "parse_retry_after", "user_agent"]

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
# methods whose repetition cannot create a second resource; a POST joins them only with an Idempotency-Key
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# failures worth another try: nothing came back, or the answer broke off
_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


def user_agent() -> str:
    """``postdodo-connect/<version>``, from the installed distribution."""
    try:
        version = metadata.version("postdodo-connect")
    except metadata.PackageNotFoundError:  # running from a bare source tree
        version = "0.0.0"
    return f"postdodo-connect/{version}"


@dataclass(frozen=True)
class ResponseInfo:
    """What the last response of this thread said besides its body."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None
    replayed: bool = False  # True when the server replayed an earlier answer for the same Idempotency-Key


def error_from_response(response: requests.Response) -> APIError:
    """The APIError subclass for an error answer, keeping code, details and request id."""
    status = response.status_code
    cls = error_class_for(status)
    request_id = response.headers.get("X-Request-Id")
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        pass
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        # a proxy's HTML page or an empty body: still an error of the right class
        snippet = " ".join(response.text.split())[:200] if response.text else "no body"
        message = f"HTTP {status} from {response.request.method} {urlsplit(response.url).path}: {snippet}"
        kwargs: dict[str, Any] = {"code": "invalid_response" if status < 500 else None, "status": status,
                                  "request_id": request_id, "headers": dict(response.headers)}
    else:
        message = str(error.get("message") or f"HTTP {status}")
        details = error.get("details")
        kwargs = {"code": error.get("code"), "param": error.get("param"),
                  "details": details if isinstance(details, list) else None,
                  "request_id": error.get("request_id") or request_id, "status": status,
                  "headers": dict(response.headers)}
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=parse_retry_after(response.headers.get("Retry-After")), **kwargs)
    return cls(message, **kwargs)


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
        jitter: Callable[[], float] = random.random,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"base URL must look like https://host[:port], not {base_url!r}")
        if max_retries < 0:
            raise ConfigurationError("max_retries must not be negative")
        # "https://host/v1" and "https://host/" both mean the API root
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.api_key = api_key
        self.timeout = timeout
        self.session = session or requests.Session()
        self._own_session = session is None
        self.max_retries = max_retries
        self.sleep = sleep if sleep is not None else time.sleep
        self.max_retry_wait = max_retry_wait
        self.backoff, self.max_backoff, self.jitter = backoff, max_backoff, jitter
        self.user_agent = user_agent()
        self._local = threading.local()

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
        ceiling = min(self.max_backoff, self.backoff * (2**attempt))
        return float(ceiling * (0.5 + self.jitter() / 2))  # "equal jitter": never zero, never in lockstep

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
        headers = {"Authorization": f"Bearer {self.api_key}", "User-Agent": self.user_agent,
                   "Accept": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        query = {k: v for k, v in (params or {}).items() if v is not None}
        repeatable = method in _SAFE_METHODS or idempotency_key is not None
        attempt = 0
        while True:
            try:
                response = self.session.request(method, url, params=query or None, json=json, headers=headers,
                                                timeout=self.timeout, allow_redirects=False)
            except _TRANSIENT as exc:
                if repeatable and attempt < self.max_retries:
                    self.sleep(self.delay(attempt))
                    attempt += 1
                    continue
                raise APIConnectionError(f"could not reach {self.base_url}: {type(exc).__name__}: {exc}") from exc
            except requests.RequestException as exc:  # a malformed URL or the like: trying again cannot help
                raise APIConnectionError(f"request to {url} failed: {type(exc).__name__}: {exc}") from exc
            wait = self._retry_wait(response, attempt, repeatable)
            if wait is None:
                return self._finish(response)
            response.close()
            self.sleep(wait)
            attempt += 1

    def _retry_wait(self, response: requests.Response, attempt: int, repeatable: bool) -> float | None:
        """Seconds to wait before trying again, or None to take this answer."""
        if attempt >= self.max_retries:
            return None
        status = response.status_code
        if status == 429:
            # the rate limiter answers before any work is done, so even a bare POST may repeat
            hinted = parse_retry_after(response.headers.get("Retry-After"))
            wait = self.delay(attempt) if hinted is None else hinted
            return wait if wait <= self.max_retry_wait else None  # waiting less than asked only earns another 429
        if status >= 500 and status != 501 and repeatable:
            hinted = parse_retry_after(response.headers.get("Retry-After"))
            wait = self.delay(attempt) if hinted is None else max(hinted, self.delay(attempt))
            return min(wait, self.max_retry_wait)
        return None

    def _finish(self, response: requests.Response) -> Any:
        """Record the response info, raise for errors, decode the JSON body."""
        self._local.info = ResponseInfo(
            status_code=response.status_code, headers=dict(response.headers),
            request_id=response.headers.get("X-Request-Id"),
            replayed=response.headers.get("Idempotent-Replayed", "").lower() == "true",
        )
        if response.status_code >= 300:  # redirects are not followed: a moved API is an error to see
            raise error_from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            # e.g. a login page answered with 200 because the base URL points at a website, not the API
            kind = response.headers.get("Content-Type", "unknown content")
            raise APIError(f"expected JSON from {response.url} but got {kind}; is {self.base_url} a PostDodo API?",
                           code="invalid_response", status=response.status_code,
                           request_id=response.headers.get("X-Request-Id")) from None
