"""Credentials that stay alive: one renewal per account across workers, stored sealed at once, ahead of expiry.

- `Keeper.renew` is what an adapter's `renew` calls (a 401, an expired Bluesky session, no session yet):
  under a per-account lease in the database it asks the platform once and stores the answer before any
  call uses it (X and TikTok have already spent the old refresh token). A worker that finds the stored
  credentials changed since it read them uses those; one that finds the lease taken waits briefly.
- `TokenSweep` runs on the scheduler's thread and only reads the database: it lists the accounts whose
  refreshable token expires within the platform's `refresh_ahead` (renewed as dispatched `refresh` jobs),
  warns once with `account.expiring` before an expiry nobody can renew, and disconnects at that expiry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .. import platforms
from ..errors import PlatformAuthError, PlatformError, PlatformRejected, PlatformUnavailable
from ..models import format_time
from ..platforms import Account, Platform
from ..platforms.oauth import ClientApp, Renewer
from ..storage import Database, Vault
from ..storage import accounts as accounts_store
from ..storage import credentials as store
from ..storage.events import emit

log = logging.getLogger("postdodo.credentials")

LEASE_SECONDS = 60.0  # a renewal (one token call, 35 s timeout at most) holds the account this long at most
WAIT_SECONDS = 2.0  # how long a worker waits for another's renewal before retrying later (never holds a worker)
POLL_SECONDS = 0.1
SWEEP_EVERY = 60.0  # seconds (of the injected clock) between refresh-ahead passes
SWEEP_BATCH = 500

#: platform name -> our OAuth app there (POSTDODO_<PLATFORM>_CLIENT_ID / _SECRET), None when not configured
ClientFor = Callable[[str], ClientApp | None]


def epoch(moment: datetime | None) -> float | None:
    """Epoch seconds of a stored time."""
    return moment.timestamp() if moment is not None else None


def stored_time(seconds: float | None) -> datetime | None:
    """A stored time from epoch seconds (whole microseconds, so it compares equal after a round trip)."""
    return datetime.fromtimestamp(round(seconds, 6), UTC) if seconds is not None else None


class Keeper:
    """Renews an account's credentials once for everyone and stores them; the same code in threads and RQ."""

    def __init__(self, db: Database, vault: Vault, clock: Callable[[], datetime], clients: ClientFor, *,
                 lease_seconds: float = LEASE_SECONDS, wait_seconds: float = WAIT_SECONDS,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.db, self.vault, self.clock, self.clients = db, vault, clock, clients
        self.lease = timedelta(seconds=lease_seconds)
        self.wait_seconds, self.sleep, self.monotonic = wait_seconds, sleep, monotonic

    def renewer(self, adapter: Platform) -> Renewer:
        """The hook an adapter calls when its credentials need renewing."""
        return lambda account, seen: self.renew(adapter, account.id, seen)

    def renew(self, adapter: Platform, account_id: str, seen: Mapping[str, Any]) -> dict[str, Any]:
        """Credentials newer than `seen`: someone else's renewal when there was one, else ours (stored first)."""
        deadline = self.monotonic() + self.wait_seconds
        while True:
            with self.db.write() as conn:
                row = accounts_store.load_account(conn, account_id)
                if row is None or row["status"] != "active" or row["deleted_at"] is not None:
                    # deleted or already expired meanwhile: nothing to renew, and nothing more to expire
                    status = "disconnected" if row is None or row["deleted_at"] is not None else row["status"]
                    raise PlatformRejected(f"account {account_id} is {status}", code=f"account_{status}")
                current = self.vault.open_json(row["credentials"])
                if current != dict(seen):
                    return current  # renewed by another worker since we read them: theirs are the live ones
                now = self.clock()
                if store.claim_refresh(conn, account_id, row["credentials"], now, now + self.lease):
                    break
            if self.monotonic() >= deadline:
                raise PlatformUnavailable("another worker is renewing this account's credentials",
                                          code="credentials_renewing", retry_after=5.0)
            self.sleep(POLL_SECONDS)
        return self._refresh(adapter, row, current)

    def _refresh(self, adapter: Platform, row: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        """Ask the platform (we hold the lease) and store the answer before anyone uses it."""
        client = self.clients(row["platform"])
        try:
            if not adapter.can_refresh(current, client):
                raise PlatformAuthError(f"{adapter.label or adapter.name} cannot renew this account's token "
                                        "without its owner: reconnect the account", code="auth_expired")
            refreshed = adapter.refresh_credentials(current, client)
        except PlatformAuthError as exc:
            self._refused(row, exc)
            raise
        except BaseException as exc:
            with self.db.write() as conn:
                store.release_refresh(conn, row["id"])
            if isinstance(exc, PlatformError) and exc.code == "refresh_outcome_unknown":
                log.error("the %s token endpoint did not answer a refresh of account %s: if it rotated the "
                          "refresh token, the next refresh is refused and the account must be reconnected",
                          row["platform"], row["id"])
            raise
        fresh = dict(refreshed.credentials)
        with self.db.write() as conn:
            stored = store.store_refreshed(conn, row["id"], row["credentials"], self.vault.seal_json(fresh),
                                           stored_time(refreshed.expires_at))
        if not stored:
            # reconnected or deleted while the lease ran out: what is stored now is the account's truth
            log.warning("credentials of account %s changed during a renewal; keeping the stored ones", row["id"])
            with self.db.read() as conn:
                again = accounts_store.load_account(conn, row["id"])
            return self.vault.open_json(again["credentials"] if again else None)
        log.info("renewed the credentials of %s account %s", row["platform"], row["id"])
        return fresh

    def _refused(self, row: dict[str, Any], exc: PlatformAuthError) -> None:
        """The platform refused the renewal: the account is `expired` and its owner is told, once."""
        now = self.clock()
        with self.db.write() as conn:
            store.release_refresh(conn, row["id"])
            if accounts_store.set_account_status(conn, row["id"], "expired"):
                emit(conn, row["workspace_id"], "account.disconnected", {
                    "account_id": row["id"], "platform": row["platform"], "handle": row["handle"],
                    "reason": exc.code, "message": exc.message}, now=now)
        log.warning("%s account %s needs reconnecting: %s", row["platform"], row["id"], exc.code)

    def save(self, account: Account, credentials: dict[str, Any]) -> None:
        """Store credentials an adapter renewed by itself (`on_credentials`)."""
        with self.db.write() as conn:
            store.store_credentials(conn, account.id, self.vault.seal_json(credentials),
                                    stored_time(platforms.adapter_class(account.platform)().token_expires_at(credentials)))

    def refresh_ahead(self, account_id: str, _stamp: int = 0) -> str:
        """The `refresh` job: renew an account whose token expires soon; returns what happened."""
        with self.db.read() as conn:
            row = accounts_store.load_account(conn, account_id)
        if row is None or row["status"] != "active" or row["mode"] != "live" or row["deleted_at"] is not None:
            return "skipped"
        adapter = platforms.get(row["platform"])
        adapter.clock = lambda: self.clock().timestamp()
        expires = epoch(row["token_expires_at"])
        if expires is None or expires - self.clock().timestamp() > adapter.refresh_ahead:
            return "skipped"  # renewed meanwhile (a 401, another engine's job)
        try:
            self.renew(adapter, account_id, self.vault.open_json(row["credentials"]))
        except PlatformAuthError:
            return "disconnected"
        except PlatformError as exc:  # an outage: the next pass tries again, well before the expiry
            log.warning("could not renew %s account %s yet: %s", row["platform"], account_id, exc.code)
            return "retry"
        return "renewed"


class TokenSweep:
    """The refresh-ahead pass: database reads and event writes only, never a platform call."""

    def __init__(self, db: Database, vault: Vault, clock: Callable[[], datetime], clients: ClientFor, *,
                 warn_days: float, every: float = SWEEP_EVERY) -> None:
        self.db, self.vault, self.clock, self.clients = db, vault, clock, clients
        self.warn = timedelta(days=warn_days)
        self.every = every
        self._last: datetime | None = None

    def due(self) -> bool:
        """Whether a pass is due (every `every` seconds of the injected clock)."""
        return self._last is None or (self.clock() - self._last).total_seconds() >= self.every

    def sweep(self) -> list[str]:
        """Warn and disconnect where nobody can renew; returns the accounts to renew now."""
        now = self._last = self.clock()
        horizon = max(self.warn, timedelta(seconds=max(platforms.adapter_class(n).refresh_ahead for n in platforms.NAMES)))
        with self.db.read() as conn:
            rows = store.expiring(conn, now + horizon, SWEEP_BATCH)
        renew = []
        for row in rows:
            adapter = platforms.adapter_class(row["platform"])()
            left = row["token_expires_at"] - now
            if adapter.can_refresh(self.vault.open_json(row["credentials"]), self.clients(row["platform"])):
                if left.total_seconds() <= adapter.refresh_ahead:
                    renew.append(row["id"])
            elif left <= timedelta(0):
                self._expired(row, now)
            elif left <= self.warn and row["expiry_warned_for"] != row["token_expires_at"]:
                self._warn(row, now)
        return renew

    def _warn(self, row: dict[str, Any], now: datetime) -> None:
        with self.db.write() as conn:
            if store.mark_warned(conn, row["id"], row["token_expires_at"]):  # once, whatever the engines
                emit(conn, row["workspace_id"], "account.expiring", {
                    "account_id": row["id"], "platform": row["platform"], "handle": row["handle"],
                    "expires_at": format_time(row["token_expires_at"]),
                    "message": "the platform cannot renew this login: reconnect the account before it expires"},
                    now=now)

    def _expired(self, row: dict[str, Any], now: datetime) -> None:
        with self.db.write() as conn:
            if accounts_store.set_account_status(conn, row["id"], "expired"):
                emit(conn, row["workspace_id"], "account.disconnected", {
                    "account_id": row["id"], "platform": row["platform"], "handle": row["handle"],
                    "reason": "token_expired", "message": "the platform login expired: reconnect the account"},
                    now=now)


def oauth_client(settings: Any, platform: str) -> ClientApp | None:
    """Our app on `platform` from POSTDODO_<PLATFORM>_CLIENT_ID / _CLIENT_SECRET (the connect settings)."""
    pair = (getattr(settings, "oauth_clients", None) or {}).get(platform)
    return ClientApp(str(pair[0]), str(pair[1] or ""), "") if pair else None
