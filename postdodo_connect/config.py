"""Settings: defaults, then POSTDODO_* environment variables, then explicit arguments."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

from .errors import ConfigurationError
from .redact import HIDDEN, redact_url

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


def _shown(var: str, raw: str) -> str:
    """A setting's value as an error message may show it: keys hidden, URLs without passwords."""
    if "SECRET" in var:
        return HIDDEN
    return repr(redact_url(raw) if var.endswith("_URL") else raw)


def _words(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.replace(",", " ").split() if part)


def _oauth_clients(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """POSTDODO_<PLATFORM>_CLIENT_ID and _CLIENT_SECRET pairs, by lower-case platform name."""
    found = {}
    for var, client_id in env.items():
        if var.startswith("POSTDODO_") and var.endswith("_CLIENT_ID") and client_id.strip():
            platform = var.removeprefix("POSTDODO_").removesuffix("_CLIENT_ID")
            found[platform.lower()] = (client_id.strip(), env.get(f"POSTDODO_{platform}_CLIENT_SECRET", "").strip())
    if "facebook" in found:  # one Meta app serves Facebook Login for Pages and Instagram business accounts
        found.setdefault("instagram", found["facebook"])
    return found


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told; `Settings.from_env()` reads the POSTDODO_* variables."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    secret_key: str | None = None
    rate_limit: str = "120/minute"
    #: per client address, for requests without a valid key (counted before any key lookup)
    rate_limit_anonymous: str = "60/minute"
    #: dashboard sign-in attempts per address entered, and per client address (failed or not)
    login_rate_limit: str = "10/minute;50/hour"
    login_rate_limit_address: str = "30/minute;300/hour"
    workers: int = 8
    #: delay in seconds before attempt 2, 3, ...; the last one repeats until max_attempts
    retry_delays: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0, 7200.0)
    max_attempts: int = 6
    retry_jitter: float = 0.2
    #: how long a claimed target/delivery stays leased before the reaper takes it back
    lease_seconds: float = 300.0
    #: seconds without a heartbeat after which an engine or worker is dead and its leases are taken back
    owner_timeout: float = 60.0
    #: how often the scheduler looks for due work when nothing wakes it
    tick_seconds: float = 0.5
    claim_batch: int = 200
    #: days before an expiry that cannot be renewed (a 60-day LinkedIn or Meta login) `account.expiring` is sent
    account_expiring_days: float = 7.0
    #: API processes wake the engine when work is due now (engine/wake.py); off: it waits for its tick
    wake: bool = True
    webhook_allow_private: bool = False
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_timeout: float = 15.0
    #: delivery retry schedule (seconds after each failed attempt); Standard Webhooks' example
    webhook_retry_delays: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)
    webhook_disable_after: float = 5 * 86400.0
    idempotency_ttl: float = 86400.0
    #: seconds after which a key whose first request never answered (the process died) is free again
    idempotency_lease: float = 60.0
    #: a file holding the secret key (Docker/systemd secrets); POSTDODO_SECRET_KEY wins when both are set
    secret_key_file: str | None = None
    #: days events (with their finished deliveries and attempt logs) are kept; 0 keeps them forever
    retention_events_days: float = 30.0
    #: days a delivery attempt keeps the receiver's response body; 0 keeps them forever
    retention_attempt_bodies_days: float = 7.0
    max_body: int = 1024 * 1024
    log_level: str = "INFO"
    #: faults every sandbox account suffers unless it sets its own (see models.SandboxFaults)
    sandbox_faults: Mapping[str, Any] = field(default_factory=dict)
    #: the public base URL of this server (the connect callback's base); None: the URL a request came to
    public_url: str | None = None
    #: prefixes a connect session's redirect_url may start with (besides public_url's origin)
    connect_redirect_urls: tuple[str, ...] = ()
    #: platform -> (client id, client secret) of our app there, from POSTDODO_<PLATFORM>_CLIENT_ID/_SECRET
    oauth_clients: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    _ENV: ClassVar[dict[str, tuple[str, Callable[[str], Any]]]] = {
        "database_url": ("POSTDODO_DATABASE_URL", str),
        "redis_url": ("POSTDODO_REDIS_URL", str),
        "secret_key": ("POSTDODO_SECRET_KEY", str),
        "secret_key_file": ("POSTDODO_SECRET_KEY_FILE", str),
        "idempotency_lease": ("POSTDODO_IDEMPOTENCY_LEASE", float),
        "retention_events_days": ("POSTDODO_RETENTION_EVENTS_DAYS", float),
        "retention_attempt_bodies_days": ("POSTDODO_RETENTION_ATTEMPT_BODIES_DAYS", float),
        "rate_limit": ("POSTDODO_RATE_LIMIT", str),
        "rate_limit_anonymous": ("POSTDODO_RATE_LIMIT_ANONYMOUS", str),
        "login_rate_limit": ("POSTDODO_LOGIN_RATE_LIMIT", str),
        "login_rate_limit_address": ("POSTDODO_LOGIN_RATE_LIMIT_ADDRESS", str),
        "workers": ("POSTDODO_WORKERS", int),
        "retry_delays": ("POSTDODO_RETRY_DELAYS", _floats),
        "max_attempts": ("POSTDODO_MAX_ATTEMPTS", int),
        "retry_jitter": ("POSTDODO_RETRY_JITTER", float),
        "lease_seconds": ("POSTDODO_LEASE_SECONDS", float),
        "owner_timeout": ("POSTDODO_OWNER_TIMEOUT", float),
        "tick_seconds": ("POSTDODO_TICK_SECONDS", float),
        "claim_batch": ("POSTDODO_CLAIM_BATCH", int),
        "account_expiring_days": ("POSTDODO_ACCOUNT_EXPIRING_DAYS", float),
        "wake": ("POSTDODO_WAKE", _bool),
        "webhook_allow_private": ("POSTDODO_WEBHOOK_ALLOW_PRIVATE", _bool),
        "webhook_allowed_hosts": ("POSTDODO_WEBHOOK_ALLOWED_HOSTS", _words),
        "webhook_timeout": ("POSTDODO_WEBHOOK_TIMEOUT", float),
        "webhook_retry_delays": ("POSTDODO_WEBHOOK_RETRY_DELAYS", _floats),
        "webhook_disable_after": ("POSTDODO_WEBHOOK_DISABLE_AFTER", float),
        "max_body": ("POSTDODO_MAX_BODY", int),
        "log_level": ("POSTDODO_LOG_LEVEL", str),
        "sandbox_faults": ("POSTDODO_SANDBOX_FAULTS", _json_object),
        "public_url": ("POSTDODO_PUBLIC_URL", str),
        "connect_redirect_urls": ("POSTDODO_CONNECT_REDIRECT_URLS", _words),
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
                raise ConfigurationError(f"{var}={_shown(var, raw)} is not valid: {exc}") from exc
        clients = _oauth_clients(env)
        if clients:
            values["oauth_clients"] = clients
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
        if self.webhook_timeout <= 0 or self.lease_seconds <= 0 or self.tick_seconds <= 0 \
                or self.idempotency_lease <= 0 or self.owner_timeout <= 0:
            raise ConfigurationError("timeouts, leases and ticks must be positive")
        if self.account_expiring_days < 0:
            raise ConfigurationError("POSTDODO_ACCOUNT_EXPIRING_DAYS must not be negative")
        if self.retention_events_days < 0 or self.retention_attempt_bodies_days < 0:
            raise ConfigurationError("POSTDODO_RETENTION_* must not be negative (0 keeps forever)")
        if self.sandbox_faults:
            from pydantic import ValidationError

            from .models import SandboxFaults

            try:
                SandboxFaults.model_validate(self.sandbox_faults)
            except ValidationError as exc:
                raise ConfigurationError(f"POSTDODO_SANDBOX_FAULTS is not valid: {exc}") from exc
        for url in (*([self.public_url] if self.public_url else []), *self.connect_redirect_urls):
            if not url.lower().startswith(("http://", "https://")) or "@" in url.split("?")[0]:
                raise ConfigurationError(f"POSTDODO_PUBLIC_URL and POSTDODO_CONNECT_REDIRECT_URLS take http(s) URLs "
                                         f"without a user or password, not {redact_url(url)!r}")
        if not self.database_url.startswith(("sqlite", "postgresql")):
            raise ConfigurationError(f"POSTDODO_DATABASE_URL must be sqlite:///... or postgresql+psycopg://..., "
                                     f"not {redact_url(self.database_url)}")

    def __repr__(self) -> str:
        """Every setting, with the key hidden and passwords out of the URLs (settings end up in tracebacks)."""
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "secret_key" and value:
                value = HIDDEN
            elif item.name == "oauth_clients":
                value = {name: (client_id, HIDDEN) for name, (client_id, _) in value.items()}
            elif item.name.endswith("_url") and value:
                value = redact_url(value)
            shown.append(f"{item.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return replace(self, **changes)

    @property
    def embedded(self) -> bool:
        """True when work runs on in-process threads (no Redis configured)."""
        return not self.redis_url
