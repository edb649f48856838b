"""The one exception tree of postdodo-connect.

    PostDodoError
    ├── ConfigurationError          bad settings (missing secret key, unparsable URL, bad route)
    │   └── DatabaseOutOfDate           the schema is not at this code's revision: run `postdodo migrate`
    ├── SignatureError              a webhook delivery failed verification (any malformed input too)
    ├── UnsafeURLError              a URL points at a non-public address (SSRF guard)
    ├── APIConnectionError          the client could not reach the API (DNS, refused, timeout)
    ├── QueueUnavailable            the receiver's Redis is unreachable: the delivery must not be acknowledged
    ├── JobFailed                   an inline (development-mode) receiver job raised
    ├── APIError                    an HTTP API error: status, code, message, request_id, details
    │   ├── InvalidRequestError         400 invalid_request (details: one entry per problem)
    │   ├── AuthenticationError         401 unauthorized
    │   ├── NotFoundError               404 not_found
    │   ├── MethodNotAllowedError       405 method_not_allowed
    │   ├── ConflictError               409 conflict / idempotency_conflict
    │   ├── PayloadTooLargeError        413 payload_too_large
    │   ├── UnsupportedMediaTypeError   415 unsupported_media_type
    │   └── RateLimitError              429 rate_limited (retry_after)
    └── PlatformError               a social platform refused or failed a call (code, retryable, retry_after)
        ├── PlatformRateLimited         429 or the platform's own throttle signal: retry later
        ├── PlatformUnavailable         5xx or network failure before the post could exist: retry
        ├── PlatformAuthError           credentials rejected: the account is expired, no retry
        ├── PlatformRejected            permanent refusal (too long, duplicate, policy): no retry
        ├── OutcomeUnknown              the post may exist (timeout, 5xx after commit): reconcile first
        └── StillProcessing             the platform is processing the media: check again later

The API raises ``APIError`` subclasses and its boundary renders them as the JSON error body; the
client maps error bodies back into the same classes, so both sides share one vocabulary.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "DatabaseOutOfDate",
    "InvalidRequestError",
    "JobFailed",
    "MethodNotAllowedError",
    "NotFoundError",
    "OutcomeUnknown",
    "PayloadTooLargeError",
    "PlatformAuthError",
    "PlatformError",
    "PlatformRateLimited",
    "PlatformRejected",
    "PlatformUnavailable",
    "StillProcessing",
    "PostDodoError",
    "QueueUnavailable",
    "RateLimitError",
    "SignatureError",
    "UnsafeURLError",
    "UnsupportedMediaTypeError",
    "error_class_for",
]


class PostDodoError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigurationError(PostDodoError):
    """Settings that cannot work (missing key, bad URL, unimportable route)."""


class DatabaseOutOfDate(ConfigurationError):
    """The database schema is not the revision this code needs; only `postdodo migrate` changes it."""


class SignatureError(PostDodoError):
    """A webhook delivery could not be verified; `reason` says why in one word."""

    #: missing_header | malformed_header | bad_signature | stale | future
    reason: str

    def __init__(self, message: str, *, reason: str = "bad_signature") -> None:
        super().__init__(message)
        self.reason = reason


class UnsafeURLError(PostDodoError):
    """A URL resolves to an address that must never be contacted."""


class APIConnectionError(PostDodoError):
    """The API could not be reached at all."""


class QueueUnavailable(PostDodoError):
    """The job queue could not be reached or refused the write."""


class JobFailed(PostDodoError):
    """An inline receiver job raised; the sender should deliver again."""


class APIError(PostDodoError):
    """An error answer of the PostDodo HTTP API."""

    status: int = 500
    default_code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        details: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        self.details = details or []
        self.request_id = request_id
        self.headers = headers or {}
        if status is not None:
            self.status = status

    def to_body(self) -> dict[str, Any]:
        """The JSON error body of DESIGN.md section 4."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.param:
            error["param"] = self.param
        if self.details:
            error["details"] = self.details
        error["request_id"] = self.request_id
        return {"error": error}


class InvalidRequestError(APIError):
    """400: the request is malformed or breaks a rule."""

    status = 400
    default_code = "invalid_request"


class AuthenticationError(APIError):
    """401: missing, invalid, rotated or revoked API key."""

    status = 401
    default_code = "unauthorized"


class NotFoundError(APIError):
    """404: no such resource in this workspace."""

    status = 404
    default_code = "not_found"


class MethodNotAllowedError(APIError):
    """405: the route exists but not with this method."""

    status = 405
    default_code = "method_not_allowed"


class ConflictError(APIError):
    """409: the resource's state forbids this, or an idempotency key was reused."""

    status = 409
    default_code = "conflict"


class PayloadTooLargeError(APIError):
    """413: the body is over the limit."""

    status = 413
    default_code = "payload_too_large"


class UnsupportedMediaTypeError(APIError):
    """415: the body is not JSON."""

    status = 415
    default_code = "unsupported_media_type"


class RateLimitError(APIError):
    """429: too many requests; retry after ``retry_after`` seconds."""

    status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


_BY_STATUS: dict[int, type[APIError]] = {
    cls.status: cls
    for cls in (
        InvalidRequestError,
        AuthenticationError,
        NotFoundError,
        MethodNotAllowedError,
        ConflictError,
        PayloadTooLargeError,
        UnsupportedMediaTypeError,
        RateLimitError,
    )
}


def error_class_for(status: int) -> type[APIError]:
    """The APIError subclass that an HTTP status maps to."""
    return _BY_STATUS.get(status, APIError)


class PlatformError(PostDodoError):
    """A platform call failed; ``retryable`` and ``retry_after`` tell the engine what to do."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "platform_error",
        retry_after: float | None = None,
        platform_error: Any = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after
        self.platform_error = platform_error
        if retryable is not None:
            self.retryable = retryable


class PlatformRateLimited(PlatformError):
    """The platform throttled us; ``retry_after`` carries its hint in seconds."""

    retryable = True


class PlatformUnavailable(PlatformError):
    """The platform failed before the post could exist (5xx on a read, connection refused)."""

    retryable = True


class PlatformAuthError(PlatformError):
    """The platform rejected the account's credentials."""


class PlatformRejected(PlatformError):
    """The platform refused the post for good."""


class PlatformNotFound(PlatformRejected):
    """The platform has no such object (HTTP 404/410): for a delete, the post is already gone."""


class OutcomeUnknown(PlatformError):
    """The post may or may not exist on the platform; only a lookup can tell."""

    retryable = True


class StillProcessing(PlatformError):
    """The platform is still processing the media: check again after ``check_after`` seconds.

    Not a failure: the engine reschedules the target in its `processing` phase (no worker waits), within
    ``budget`` seconds from the first such answer, then fails it as `processing_timeout`.
    """

    retryable = True

    def __init__(self, message: str, *, check_after: float, budget: float, **kwargs: Any) -> None:
        kwargs.setdefault("code", "processing")
        super().__init__(message, retry_after=check_after, **kwargs)
        self.check_after, self.budget = check_after, budget
