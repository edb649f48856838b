"""Per-key rate limits (flask-limiter) with RateLimit-* and X-RateLimit-* headers on every response."""

from __future__ import annotations

import hashlib
import time

from flask import Flask, Response, request
from flask_limiter import Limiter, RequestLimit

from ..errors import RateLimitError
from .auth import bearer_key
from .boundary import error_response


def _limit_key() -> str:
    key = bearer_key()
    # a hash, so the limiter's storage (maybe Redis) never holds a usable key
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32] if key else "ip:" + (request.remote_addr or "?")


def _breach(limit: RequestLimit) -> Response:
    retry_after = max(1, int(limit.reset_at - time.time()))
    error = RateLimitError(f"rate limit of {limit.limit} exceeded; retry in {retry_after}s", retry_after=retry_after)
    error.headers["Retry-After"] = str(retry_after)
    return error_response(error)


def init_app(app: Flask, rate_limit: str, storage_uri: str | None) -> Limiter:
    """Attach the limiter to every /v1 route."""
    # registered before the limiter so it runs after the limiter's own header hook (Flask runs them in reverse)
    @app.after_request
    def _ietf_headers(response: Response) -> Response:
        # flask-limiter writes the X- names; mirror them under the IETF draft names, whose
        # Reset is seconds from now rather than an epoch
        for name in ("Limit", "Remaining"):
            value = response.headers.get(f"X-RateLimit-{name}")
            if value is not None:
                response.headers[f"RateLimit-{name}"] = value
        if response.status_code != 429:
            response.headers.pop("Retry-After", None)  # flask-limiter sends it always; it means "wait" only on 429
        reset = response.headers.get("X-RateLimit-Reset")
        if reset is not None:
            response.headers["RateLimit-Reset"] = str(max(0, int(float(reset) - time.time())))
        return response

    limiter = Limiter(
        _limit_key,
        app=app,
        default_limits=[rate_limit],
        default_limits_exempt_when=lambda: not request.path.startswith("/v1/"),
        headers_enabled=True,
        storage_uri=storage_uri or "memory://",
        strategy="fixed-window",
        on_breach=_breach,
        # a Redis outage must neither take the API down nor switch limits off unseen: count per process in
        # memory meanwhile (flask-limiter logs the switch once, and tries Redis again with a backoff)
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )

    return limiter
