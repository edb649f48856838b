"""Receiver settings: defaults, then ``POSTDODO_RECEIVER_*`` environment, then ``test_config`` overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from postdodo_connect.errors import ConfigurationError
from postdodo_connect.redact import HIDDEN, redact_url
from postdodo_connect.signing import decode_secret

__all__ = ["ENV_PREFIX", "QUEUE_MODES", "ReceiverSettings", "load_settings"]

ENV_PREFIX = "POSTDODO_RECEIVER_"
QUEUE_MODES = ("redis", "inline")


@dataclass(frozen=True)
class ReceiverSettings:
    """Everything the receiver needs to run; the keys are also the ``test_config`` keys."""

    secrets: tuple[str, ...] = ()
    redis_url: str = "redis://127.0.0.1:6379/0"
    tolerance: int = 300
    max_body: int = 256 * 1024
    routes: str = ""
    path: str = "/webhooks/postdodo"
    queue: str = "redis"
    # Seconds a sender should wait after a 503; the sender clamps it to its own schedule.
    retry_after: int = 30
    # The web process must fail fast: a delivery waiting on a dead Redis blocks a worker.
    redis_connect_timeout: float = 0.25
    redis_socket_timeout: float = 0.5
    # RQ retries of a failing job; interval retries need `rq worker --with-scheduler`.
    job_retries: int = 5
    job_retry_intervals: tuple[int, ...] = (10, 30, 120, 600, 3600)
    job_timeout: int = 180


def _split(value: str) -> tuple[str, ...]:
    """Words of a space/comma separated setting."""
    return tuple(part for part in value.replace(",", " ").split() if part)


def _coerce(name: str, value: Any, kind: type) -> Any:
    """Convert one raw setting to the field's type, or raise ConfigurationError naming it."""
    try:
        if kind is tuple and name == "secrets":
            return _split(value) if isinstance(value, str) else tuple(str(v) for v in value)
        if kind is tuple:
            items = _split(value) if isinstance(value, str) else value
            return tuple(int(v) for v in items)
        if kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind is float:
            return float(value)
        if not isinstance(value, str):
            raise TypeError(value)
        return value.strip() if name != "routes" else value
    except (TypeError, ValueError) as exc:
        # the value is shown only where it cannot be a credential
        shown = HIDDEN if name == "secrets" else repr(redact_url(value) if isinstance(value, str) else value)
        raise ConfigurationError(f"receiver setting {name!r} is invalid: {shown}") from exc


_KINDS: dict[str, type] = {
    "secrets": tuple,
    "job_retry_intervals": tuple,
    "tolerance": int,
    "max_body": int,
    "retry_after": int,
    "job_retries": int,
    "job_timeout": int,
    "redis_connect_timeout": float,
    "redis_socket_timeout": float,
}


def _validate(settings: ReceiverSettings, require_secrets: bool) -> None:
    """Refuse settings that cannot work, with a message that says which."""
    if require_secrets and not settings.secrets:
        raise ConfigurationError(
            f"no webhook secret: set {ENV_PREFIX}SECRETS to the endpoint's whsec_ secret(s), space-separated"
        )
    for position, secret in enumerate(settings.secrets, start=1):
        try:
            decode_secret(secret)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{ENV_PREFIX}SECRETS entry {position}: {exc}") from exc
    if settings.queue not in QUEUE_MODES:
        raise ConfigurationError(f"{ENV_PREFIX}QUEUE must be one of {', '.join(QUEUE_MODES)}, not {settings.queue!r}")
    if not settings.path.startswith("/"):
        raise ConfigurationError(f"{ENV_PREFIX}PATH must start with '/': {settings.path!r}")
    positive = ("tolerance", "max_body", "retry_after", "job_timeout", "redis_connect_timeout", "redis_socket_timeout")
    for name in positive:
        if getattr(settings, name) <= 0:
            raise ConfigurationError(f"receiver setting {name!r} must be positive")
    if settings.job_retries < 0 or any(i < 0 for i in settings.job_retry_intervals):
        raise ConfigurationError("receiver job retries and intervals must not be negative")
    if settings.job_retries and not settings.job_retry_intervals:
        raise ConfigurationError("receiver job retries need at least one retry interval")


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    require_secrets: bool = True,
) -> ReceiverSettings:
    """Build and validate the settings; unknown override keys are refused (typos would pass silently).

    Workers and maintenance commands pass ``require_secrets=False``: only the web process verifies.
    """
    environ = os.environ if environ is None else environ
    known = {f.name for f in fields(ReceiverSettings)}
    unknown = set(overrides or {}) - known
    if unknown:
        raise ConfigurationError(f"unknown receiver setting(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name in known:
        raw = environ.get(ENV_PREFIX + name.upper())
        if overrides and name in overrides:
            raw = overrides[name]
        if raw is not None:
            values[name] = _coerce(name, raw, _KINDS.get(name, str))
    settings = ReceiverSettings(**values)
    _validate(settings, require_secrets)
    return settings
