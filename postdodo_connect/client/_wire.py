"""What the blocking and the asyncio transports share, with no HTTP library: the base URL, headers, the retry
policy, and the one translation of an API answer into a decoded body or an error of the tree."""

from __future__ import annotations

import functools
import json
import os
import random
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

from ..errors import APIError, ConfigurationError, RateLimitError, error_class_for
from ..httpdate import parse_retry_after

__all__ = [
    "DEFAULT_BASE_URL",
    "SAFE_METHODS",
    "ResponseInfo",
    "RetryPolicy",
    "cannot_reach",
    "client_settings",
    "decode_answer",
    "error_from_answer",
    "normalize_base_url",
    "request_headers",
    "response_info",
    "user_agent",
]

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


def client_settings(api_key: str | None, base_url: str | None) -> tuple[str, str]:
    """The key and API root a client uses: the arguments, else POSTDODO_API_KEY and POSTDODO_BASE_URL."""
    key = api_key or os.environ.get("POSTDODO_API_KEY", "").strip()
    if not key:
        raise ConfigurationError("no API key: set POSTDODO_API_KEY or give the client an api_key")
    return key, base_url or os.environ.get("POSTDODO_BASE_URL", "").strip() or DEFAULT_BASE_URL


# methods whose repetition cannot create a second resource; a POST joins them only with an Idempotency-Key
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@functools.cache
def user_agent() -> str:
    """``postdodo-connect/<version>``, from the installed distribution (read once: it scans sys.path)."""
    try:
        version = metadata.version("postdodo-connect")
    except metadata.PackageNotFoundError:  # running from a bare source tree or a vendored copy
        version = "0.0.0"
    return f"postdodo-connect/{version}"


def cannot_reach(base_url: str, exc: BaseException) -> str:
    """Why no answer came, in words, not the HTTP library's: "cannot reach PostDodo at URL: connection refused"."""
    return f"cannot reach PostDodo at {base_url}: {_why(exc)}"


def _why(exc: BaseException) -> str:
    """The first cause a person can act on, found anywhere in the chain of wrapped exceptions."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        error = todo.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        name = type(error).__name__
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, socket.gaierror) or "NameResolution" in name:
            return "host name not found"
        if isinstance(error, ssl.SSLError) or "SSL" in name or "Certificate" in name:
            return "TLS handshake failed (certificate or protocol)"
        if isinstance(error, TimeoutError) or "Timeout" in name:
            return "no answer in time"
        if isinstance(error, ConnectionResetError) or "ChunkedEncoding" in name or "Payload" in name:
            return "the connection broke off"
        # requests and urllib3 wrap the OS error in .args / .reason; aiohttp keeps it in .os_error
        nested = [error.__cause__, error.__context__, getattr(error, "reason", None), getattr(error, "os_error", None),
                  *error.args]
        todo.extend(e for e in nested if isinstance(e, BaseException))
    return "connection failed"


def normalize_base_url(base_url: str) -> str:
    """The API root without ``/v1`` or a trailing slash; ConfigurationError for anything but http(s)://host."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"base URL must look like https://host[:port], not {base_url!r}")
    # "https://host/v1" and "https://host/" both mean the API root
    return base_url.rstrip("/").removesuffix("/v1")


def request_headers(api_key: str, agent: str, idempotency_key: str | None) -> dict[str, str]:
    """The headers of every API call."""
    headers = {"Authorization": f"Bearer {api_key}", "User-Agent": agent, "Accept": "application/json"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def clean_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Query parameters without the ones left unset."""
    return {k: v for k, v in (params or {}).items() if v is not None}


@dataclass(frozen=True)
class ResponseInfo:
    """What the last response said besides its body."""

    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None
    replayed: bool = False  # True when the server replayed an earlier answer for the same Idempotency-Key


def response_info(status: int, headers: Mapping[str, str]) -> ResponseInfo:
    """Status, headers, request id and replay flag of one answer (``headers`` case-insensitive)."""
    return ResponseInfo(status_code=status, headers=dict(headers), request_id=headers.get("X-Request-Id"),
                        replayed=headers.get("Idempotent-Replayed", "").lower() == "true")


@dataclass
class RetryPolicy:
    """When a call is tried again and how long to wait: exponential backoff with jitter, Retry-After honoured."""

    max_retries: int = 3
    max_retry_wait: float = 60.0
    backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigurationError("max_retries must not be negative")

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter for retry number ``attempt`` (0-based)."""
        ceiling = min(self.max_backoff, self.backoff * (2**attempt))
        return float(ceiling * (0.5 + self.jitter() / 2))  # "equal jitter": never zero, never in lockstep

    def after_failure(self, attempt: int, repeatable: bool) -> float | None:
        """Seconds to wait after no answer came back (refused, timed out, cut off), or None to give up."""
        return self.delay(attempt) if repeatable and attempt < self.max_retries else None

    def after_answer(self, status: int, headers: Mapping[str, str], attempt: int, repeatable: bool) -> float | None:
        """Seconds to wait before trying again after this answer, or None to take it."""
        if attempt >= self.max_retries:
            return None
        if status == 429:
            # the rate limiter answers before any work is done, so even a bare POST may repeat
            hinted = parse_retry_after(headers.get("Retry-After"))
            wait = self.delay(attempt) if hinted is None else hinted
            return wait if wait <= self.max_retry_wait else None  # waiting less than asked only earns another 429
        if status >= 500 and status != 501 and repeatable:
            hinted = parse_retry_after(headers.get("Retry-After"))
            wait = self.delay(attempt) if hinted is None else max(hinted, self.delay(attempt))
            return min(wait, self.max_retry_wait)
        return None


def error_from_answer(status: int, headers: Mapping[str, str], body: bytes, method: str, url: str) -> APIError:
    """The APIError subclass for an error answer, keeping code, details and request id."""
    cls = error_class_for(status)
    request_id = headers.get("X-Request-Id")
    decoded: Any = None
    try:
        decoded = json.loads(body) if body else None
    except ValueError:
        pass
    error = decoded.get("error") if isinstance(decoded, dict) else None
    if not isinstance(error, dict):
        # a proxy's HTML page or an empty body: still an error of the right class
        text = body.decode("utf-8", errors="replace")
        snippet = " ".join(text.split())[:200] if text else "no body"
        message = f"HTTP {status} from {method} {urlsplit(url).path}: {snippet}"
        kwargs: dict[str, Any] = {"code": "invalid_response" if status < 500 else None, "status": status,
                                  "request_id": request_id, "headers": dict(headers)}
    else:
        message = str(error.get("message") or f"HTTP {status}")
        details = error.get("details")
        kwargs = {"code": error.get("code"), "param": error.get("param"),
                  "details": details if isinstance(details, list) else None,
                  "request_id": error.get("request_id") or request_id, "status": status,
                  "headers": dict(headers)}
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=parse_retry_after(headers.get("Retry-After")), **kwargs)
    return cls(message, **kwargs)


def decode_answer(status: int, headers: Mapping[str, str], body: bytes, method: str, url: str, base_url: str) -> Any:
    """The decoded JSON body of a final answer; an error of the tree for anything but a 2xx JSON answer."""
    if status >= 300:  # redirects are not followed: a moved API is an error to see
        raise error_from_answer(status, headers, body, method, url)
    if status == 204 or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        # e.g. a login page answered with 200 because the base URL points at a website, not the API
        kind = headers.get("Content-Type", "unknown content")
        raise APIError(f"expected JSON from {url} but got {kind}; is {base_url} a PostDodo API?",
                       code="invalid_response", status=status, request_id=headers.get("X-Request-Id")) from None
