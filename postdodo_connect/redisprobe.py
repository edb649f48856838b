"""One rule for a Redis that is configured but down: servers warn once and run degraded, Redis-only commands stop.

The one line each command prints comes from here, so `postdodo` and `postdodo-receiver` say it the same way.
"""

from __future__ import annotations

from .redact import redact_url

__all__ = ["TIMEOUT", "unreachable"]

TIMEOUT = 2.0  # seconds: a start-up check must not hang on a black-holed host


def unreachable(url: str, timeout: float = TIMEOUT) -> str | None:
    """None when Redis at `url` answers PING, else why not, as one line without the password."""
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        # redis-py's messages name host and port, never the password; the URL is shown redacted
        return f"Redis at {redact_url(url)} is unreachable ({reason})"
    finally:
        client.close()
    return None
