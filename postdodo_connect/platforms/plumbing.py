"""HTTP plumbing of the adapters: timeouts, answer classification, retry hints, JSON bodies."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import requests

from ..errors import (
    OutcomeUnknown,
    PlatformAuthError,
    PlatformError,
    PlatformNotFound,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    UnsafeURLError,
)
from ..httpdate import parse_retry_after

if TYPE_CHECKING:
    from ..netguard import URLPolicy

__all__ = ["MAX_ERROR_TEXT", "TIMEOUT", "Plumbing", "Resolver", "error_body"]

# connect 5 s / read 30 s: a platform slower than that is treated as an unknown outcome.
TIMEOUT = (5.0, 30.0)
#: answers that say the request was never processed (408 Request Timeout, 425 Too Early)
NOT_PROCESSED = frozenset({408, 425})
#: the raw error text kept in `platform_error` when a body is not JSON
MAX_ERROR_TEXT = 2000
#: a resolver for the SSRF guard: (host, port) -> addresses (tests inject one; None = system DNS)
Resolver = Callable[[str, int], list[str]]


class Plumbing:
    """The HTTP half of `Platform`: every adapter talks to its platform through these methods."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    #: for media the adapter downloads and uploads itself: kind -> byte cap, kind -> MIME types
    media_max_bytes: ClassVar[dict[str, int]] = {}
    media_types: ClassVar[dict[str, frozenset[str]]] = {}
    #: "now" in epoch seconds; injectable so retry hints are deterministic in tests
    clock: Callable[[], float] = staticmethod(time.time)
    #: only for short, bounded waits (a worker is never held long: processing is a rescheduled check)
    sleep: Callable[[float], None] = staticmethod(time.sleep)
    #: DNS resolver for the SSRF guard (None = system resolver)
    resolver: Resolver | None = None
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

    def json(self, response: requests.Response, *, creates: bool = False) -> dict[str, Any]:
        """A 2xx answer's JSON object; anything else (a proxy's HTML page) leaves us unsure."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            return body
        message = f"{self.label or self.name} answered HTTP {response.status_code} without a JSON body"
        error = OutcomeUnknown if creates else PlatformUnavailable
        raise error(message, code="outcome_unknown" if creates else "platform_unavailable",
                    platform_error=response.text[:MAX_ERROR_TEXT])

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
        if status in NOT_PROCESSED:
            # the server says it dropped the request unread: nothing was created, a plain retry is safe
            return PlatformUnavailable(message, code="not_processed", platform_error=body)
        if status in (404, 410):  # its own class: a delete treats "no such post" as done
            return PlatformNotFound(message, code="rejected", platform_error=body)
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


def error_body(response: requests.Response) -> Any:
    """An error answer's body for `platform_error`: parsed JSON, else (capped) text."""
    try:
        return response.json()
    except ValueError:
        return response.text[:MAX_ERROR_TEXT]
