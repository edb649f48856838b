"""An account's credentials over time: the refresh lease, the renewed (sealed) credentials, expiry warnings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from .schema import accounts


def _same_credentials(sealed: str | None) -> Any:
    # a Fernet token is unique per sealing: equal text means nobody stored anything since we read it
    return accounts.c.credentials.is_(None) if sealed is None else accounts.c.credentials == sealed


def claim_refresh(conn: Connection, account_id: str, sealed: str | None, now: datetime, until: datetime) -> bool:
    """Take the account's refresh lease if its credentials are still `sealed` and nobody holds a live lease."""
    result = conn.execute(update(accounts).where(
        accounts.c.id == account_id, accounts.c.status == "active", accounts.c.deleted_at.is_(None),
        _same_credentials(sealed),
        or_(accounts.c.refresh_lease_until.is_(None), accounts.c.refresh_lease_until <= now),
    ).values(refresh_lease_until=until))
    return result.rowcount > 0


def store_refreshed(conn: Connection, account_id: str, previous: str | None, sealed: str,
                    expires_at: datetime | None) -> bool:
    """Replace `previous` credentials by renewed ones and end the lease; False when they changed meanwhile."""
    result = conn.execute(update(accounts).where(accounts.c.id == account_id, _same_credentials(previous))
                          .values(credentials=sealed, token_expires_at=expires_at, refresh_lease_until=None))
    return result.rowcount > 0


def store_credentials(conn: Connection, account_id: str, sealed: str, expires_at: datetime | None) -> None:
    """Store credentials an adapter renewed on its own (no lease was taken)."""
    conn.execute(update(accounts).where(accounts.c.id == account_id, accounts.c.deleted_at.is_(None))
                 .values(credentials=sealed, token_expires_at=expires_at))


def release_refresh(conn: Connection, account_id: str) -> None:
    """End the refresh lease without storing anything (the refresh failed)."""
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(refresh_lease_until=None))


def expiring(conn: Connection, until: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Active live accounts whose token expires by `until`, soonest first, credentials included."""
    rows = conn.execute(select(
        accounts.c.id, accounts.c.workspace_id, accounts.c.platform, accounts.c.handle, accounts.c.credentials,
        accounts.c.token_expires_at, accounts.c.expiry_warned_for,
    ).where(
        accounts.c.mode == "live", accounts.c.status == "active", accounts.c.deleted_at.is_(None),
        accounts.c.token_expires_at.is_not(None), accounts.c.token_expires_at <= until,
    ).order_by(accounts.c.token_expires_at, accounts.c.id).limit(limit))
    return [dict(row._mapping) for row in rows]


def mark_warned(conn: Connection, account_id: str, expires_at: datetime) -> bool:
    """Record that `account.expiring` went out for this expiry; False when it already had (another engine)."""
    result = conn.execute(update(accounts).where(
        accounts.c.id == account_id, accounts.c.token_expires_at == expires_at,
        or_(accounts.c.expiry_warned_for.is_(None), accounts.c.expiry_warned_for != expires_at),
    ).values(expiry_warned_for=expires_at))
    return result.rowcount > 0
