"""Shared HTTP plumbing of the adapters: timeouts, answer classification, retry hints, media, tokens."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import requests

from ..errors import (
    OutcomeUnknown,
    PlatformAuthError,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    UnsafeURLError,
)
from ..httpdate import parse_retry_after

if TYPE_CHECKING:
    from ..netguard import URLPolicy
    from .base import Account, Media

__all__ = ["MAX_ERROR_TEXT", "TIMEOUT", "CredentialsHook", "Plumbing", "Resolver", "error_body", "seed_digits"]

# connect 5 s / read 30 s: a platform slower than that is treated as an unknown outcome.
TIMEOUT = (5.0, 30.0)
#: the raw error text kept in `platform_error` when a body is not JSON
MAX_ERROR_TEXT = 2000
#: a resolver for the SSRF guard: (host, port) -> addresses (tests inject one; None = system DNS)
Resolver = Callable[[str, int], list[str]]
#: called with the account and its new credentials after a token refresh, so they can be stored
CredentialsHook = Callable[["Account", dict[str, Any]], None]


class Plumbing:
    """The HTTP half of `Platform`: every adapter talks to its platform through these methods."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    #: for media the adapter downloads and uploads itself: kind -> byte cap, kind -> MIME types
    media_max_bytes: ClassVar[dict[str, int]] = {}
    media_types: ClassVar[dict[str, frozenset[str]]] = {}
    #: "now" in epoch seconds; injectable so retry hints are deterministic in tests
    clock: Callable[[], float] = staticmethod(time.time)
    #: only for short, bounded media-processing polls; injectable
    sleep: Callable[[float], None] = staticmethod(time.sleep)
    #: DNS resolver for media downloads through the SSRF guard (None = system resolver)
    resolver: Resolver | None = None
    #: set by the engine to persist credentials that a token refresh replaced
    on_credentials: CredentialsHook | None = None
    #: send every call through the SSRF guard: for hosts taken from user input (an instance URL)
    guarded: ClassVar[bool] = False
    #: the guard's policy for those calls (None: `netguard.policy_from_env()`)
    url_policy: URLPolicy | None = None
    _requests_session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        """The HTTP session, created on first use so preflight-only adapters stay cheap."""
        if self._requests_session is None:
            self._requests_session = requests.Session()
        return self._requests_session

    @session.setter
    def session(self, value: requests.Session) -> None:
        self._requests_session = value

    def http(self, method: str, url: str, *, creates: bool = False, **kwargs: Any) -> requests.Response:
        """One request with the project's timeouts, network failures translated into the error tree.

        `creates=True` marks a call that may create the post: a failure after the request was sent
        (read timeout, connection dropped mid-answer) then means the outcome is unknown.
        """
        kwargs.setdefault("timeout", TIMEOUT)
        try:
            return self.send(method, url, **kwargs)
        except UnsafeURLError as exc:
            raise PlatformRejected(f"{self.label or self.name}: {exc}", code="url_refused") from exc
        except (requests.ConnectTimeout, requests.exceptions.InvalidURL) as exc:
            # the request never left: safe to retry
            raise PlatformUnavailable(f"{self.name} unreachable: {exc.__class__.__name__}", code="platform_unreachable") from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            if creates:
                raise OutcomeUnknown(f"{self.name} did not answer: {exc.__class__.__name__}", code="platform_timeout") from exc
            raise PlatformUnavailable(f"{self.name} unreachable: {exc.__class__.__name__}", code="platform_unreachable") from exc

    def send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """The bare request: through the session, or through the SSRF guard when `guarded`."""
        if not self.guarded:
            return self.session.request(method, url, **kwargs)
        from ..netguard import policy_from_env, safe_request

        policy = self.url_policy or policy_from_env()
        return safe_request(self.session, method, url, policy=policy, resolver=self.resolver, **kwargs)

    def call(self, method: str, url: str, *, creates: bool = False, **kwargs: Any) -> requests.Response:
        """`http` that also raises the classified PlatformError for any non-2xx answer."""
        response = self.http(method, url, creates=creates, **kwargs)
        if response.status_code >= 300:
            raise self.classify(response, creates=creates)
        return response

    def classify(self, response: requests.Response, *, creates: bool = False) -> PlatformError:
        """The error a non-2xx answer means; adapters special-case their bodies, then call this."""
        status = response.status_code
        message = f"{self.label or self.name}: {self.error_message(response)}"
        body = error_body(response)
        if status == 429:
            return PlatformRateLimited(message, code="rate_limited", retry_after=self.retry_after(response), platform_error=body)
        if status == 401:
            return PlatformAuthError(message, code="auth_expired", platform_error=body)
        if status >= 500:
            if creates:
                # the platform may have committed the post before failing
                return OutcomeUnknown(message, code="outcome_unknown", platform_error=body)
            hint = Plumbing.retry_after(self, response)  # a 5xx's own Retry-After, never a quota reset
            return PlatformUnavailable(message, code="platform_unavailable", retry_after=hint, platform_error=body)
        if status == 408:
            return PlatformUnavailable(message, code="platform_timeout", platform_error=body)
        return PlatformRejected(message, code="forbidden" if status == 403 else "rejected", platform_error=body)

    def error_message(self, response: requests.Response) -> str:
        """The platform's own words for an error answer (adapters read their body shape)."""
        body = error_body(response)
        if isinstance(body, dict):
            for key in ("message", "detail", "error_description", "error", "description", "title"):
                if isinstance(body.get(key), str) and body[key]:
                    return str(body[key])
        return f"HTTP {response.status_code} {response.reason or ''}".strip()

    def retry_after(self, response: requests.Response) -> float | None:
        """Seconds a 429 asks us to wait: here `Retry-After` (delta seconds or HTTP date)."""
        return parse_retry_after(response.headers.get("Retry-After"), datetime.fromtimestamp(self.clock(), UTC))

    def seconds_until(self, when: float | str | None) -> float | None:
        """Seconds from `self.clock()` to `when`: epoch seconds (number or digits) or ISO 8601."""
        if when is None or when == "":
            return None
        try:
            epoch = float(when)
        except (TypeError, ValueError):
            try:
                moment = datetime.fromisoformat(str(when))
            except ValueError:
                return None
            epoch = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
        return max(0.0, epoch - self.clock())

    def seconds_until_utc_midnight(self) -> float:
        """Seconds from `self.clock()` to the next 00:00 UTC (daily quotas reset then)."""
        return 86400.0 - self.clock() % 86400.0

    def fetch_media(self, account: Account, item: Media) -> tuple[bytes, str]:
        """Download one media item the platform cannot fetch itself, within this platform's caps."""
        from .media import download, policy_for

        return download(item.url, policy=policy_for(account), max_bytes=self.media_max_bytes.get(item.type, 0),
                        allowed_types=self.media_types.get(item.type, frozenset()), resolver=self.resolver)

    def credentials_changed(self, account: Account, credentials: dict[str, Any]) -> None:
        """Hand refreshed credentials to the engine (no-op when nobody listens)."""
        if self.on_credentials is not None:
            self.on_credentials(account, credentials)


def seed_digits(seed: str, length: int) -> str:
    """`length` decimal digits derived from `seed`, never starting with 0 (snowflake-like sample ids)."""
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:16], "big")
    return str(10 ** (length - 1) + number % (9 * 10 ** (length - 1)))


def error_body(response: requests.Response) -> Any:
    """An error answer's body for `platform_error`: parsed JSON, else (capped) text."""
    try:
        return response.json()
    except ValueError:
        return response.text[:MAX_ERROR_TEXT]
