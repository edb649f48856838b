"""Settings: defaults, then POSTDODO_* environment variables, then explicit arguments."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

from .errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///postdodo.db"


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.replace(",", " ").split())


def _bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _words(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.replace(",", " ").split() if part)


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told; `Settings.from_env()` reads the POSTDODO_* variables."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    secret_key: str | None = None
    rate_limit: str = "120/minute"
    #: per client address, for requests without a valid key (counted before any key lookup)
    rate_limit_anonymous: str = "60/minute"
    workers: int = 8
    #: delay in seconds before attempt 2, 3, ...; the last one repeats until max_attempts
    retry_delays: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0, 7200.0)
    max_attempts: int = 6
    retry_jitter: float = 0.2
    #: how long a claimed target/delivery stays leased before the reaper takes it back
    lease_seconds: float = 300.0
    #: how often the scheduler looks for due work when nothing wakes it
    tick_seconds: float = 0.5
    claim_batch: int = 200
    webhook_allow_private: bool = False
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_timeout: float = 15.0
    #: delivery retry schedule (seconds after each failed attempt); Standard Webhooks' example
    webhook_retry_delays: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)
    webhook_disable_after: float = 5 * 86400.0
    idempotency_ttl: float = 86400.0
    max_body: int = 1024 * 1024
    log_level: str = "INFO"
    #: faults every sandbox account suffers unless it sets its own (see models.SandboxFaults)
    sandbox_faults: Mapping[str, Any] = field(default_factory=dict)

    _ENV: ClassVar[dict[str, tuple[str, Callable[[str], Any]]]] = {
        "database_url": ("POSTDODO_DATABASE_URL", str),
        "redis_url": ("POSTDODO_REDIS_URL", str),
        "secret_key": ("POSTDODO_SECRET_KEY", str),
        "rate_limit": ("POSTDODO_RATE_LIMIT", str),
        "rate_limit_anonymous": ("POSTDODO_RATE_LIMIT_ANONYMOUS", str),
        "workers": ("POSTDODO_WORKERS", int),
        "retry_delays": ("POSTDODO_RETRY_DELAYS", _floats),
        "max_attempts": ("POSTDODO_MAX_ATTEMPTS", int),
        "retry_jitter": ("POSTDODO_RETRY_JITTER", float),
        "lease_seconds": ("POSTDODO_LEASE_SECONDS", float),
        "tick_seconds": ("POSTDODO_TICK_SECONDS", float),
        "claim_batch": ("POSTDODO_CLAIM_BATCH", int),
        "webhook_allow_private": ("POSTDODO_WEBHOOK_ALLOW_PRIVATE", _bool),
        "webhook_allowed_hosts": ("POSTDODO_WEBHOOK_ALLOWED_HOSTS", _words),
        "webhook_timeout": ("POSTDODO_WEBHOOK_TIMEOUT", float),
        "webhook_retry_delays": ("POSTDODO_WEBHOOK_RETRY_DELAYS", _floats),
        "webhook_disable_after": ("POSTDODO_WEBHOOK_DISABLE_AFTER", float),
        "max_body": ("POSTDODO_MAX_BODY", int),
        "log_level": ("POSTDODO_LOG_LEVEL", str),
        "sandbox_faults": ("POSTDODO_SANDBOX_FAULTS", _json_object),
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, overridden by the environment, overridden by keyword arguments."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, (var, parse) in cls._ENV.items():
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{var}={raw!r} is not valid: {exc}") from exc
        values.update(overrides)
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ConfigurationError(f"unknown settings: {', '.join(sorted(unknown))}")
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse combinations that cannot work."""
        if self.workers < 1:
            raise ConfigurationError("POSTDODO_WORKERS must be at least 1")
        if self.max_attempts < 1:
            raise ConfigurationError("POSTDODO_MAX_ATTEMPTS must be at least 1")
        if not self.retry_delays or min(self.retry_delays) < 0:
            raise ConfigurationError("POSTDODO_RETRY_DELAYS needs at least one delay, none negative")
        if not self.webhook_retry_delays or min(self.webhook_retry_delays) < 0:
            raise ConfigurationError("POSTDODO_WEBHOOK_RETRY_DELAYS needs at least one delay, none negative")
        if self.webhook_timeout <= 0 or self.lease_seconds <= 0 or self.tick_seconds <= 0:
            raise ConfigurationError("timeouts, leases and ticks must be positive")
        if self.sandbox_faults:
            from pydantic import ValidationError

            from .models import SandboxFaults

            try:
                SandboxFaults.model_validate(self.sandbox_faults)
            except ValidationError as exc:
                raise ConfigurationError(f"POSTDODO_SANDBOX_FAULTS is not valid: {exc}") from exc
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise ConfigurationError("POSTDODO_DATABASE_URL must be sqlite:///... or postgresql+psycopg://...")

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return replace(self, **changes)

    @property
    def embedded(self) -> bool:
        """True when work runs on in-process threads (no Redis configured)."""
        return not self.redis_url
