"""Idempotency keys: the first response of a (workspace, key) pair, replayed for 24 hours (purged by retention)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .db import Database
from .schema import idempotency_keys as keys


def reserve(db: Database, scope: str, key: str, fingerprint: str, now: datetime, ttl: float,
            lease: float = 60.0) -> dict[str, Any] | None:
    """Claim the key for this request; returns None when claimed, else the existing row.

    A key whose first request never answered (its process died mid-flight) is free again after `lease`
    seconds, instead of answering 409 until the replay window ends.
    """
    for _ in range(3):
        try:
            with db.write() as conn:
                conn.execute(insert(keys).values(scope=scope, key=key, fingerprint=fingerprint, created_at=now))
            return None
        except IntegrityError:
            with db.write() as conn:
                row = conn.execute(select(keys).where(keys.c.scope == scope, keys.c.key == key)).first()
                if row is None:
                    continue  # released between our insert and this read: try again
                if row.created_at < now - timedelta(seconds=ttl):
                    conn.execute(delete(keys).where(keys.c.scope == scope, keys.c.key == key))
                    continue  # expired: the key is free again
                if row.status_code is None and row.created_at < now - timedelta(seconds=lease):
                    # abandoned mid-flight: take it over (only if nobody else did since we read it)
                    taken = conn.execute(update(keys).where(
                        keys.c.scope == scope, keys.c.key == key, keys.c.status_code.is_(None),
                        keys.c.created_at == row.created_at).values(fingerprint=fingerprint, created_at=now)).rowcount
                    if taken:
                        return None
                    continue
                return dict(row._mapping)
    raise RuntimeError("idempotency key kept changing hands")


def lookup(conn: Connection, scope: str, key: str) -> dict[str, Any] | None:
    """The row of a key, if any."""
    row = conn.execute(select(keys).where(keys.c.scope == scope, keys.c.key == key)).first()
    return dict(row._mapping) if row else None


def complete(db: Database, scope: str, key: str, status_code: int, response: str) -> None:
    """Store the response to replay (the first answer stands if a lease takeover ran the request twice)."""
    with db.write() as conn:
        conn.execute(update(keys).where(keys.c.scope == scope, keys.c.key == key, keys.c.status_code.is_(None))
                     .values(status_code=status_code, response=response))


def release(db: Database, scope: str, key: str) -> None:
    """Forget a key whose request failed on our side, so a retry runs again."""
    with db.write() as conn:
        conn.execute(delete(keys).where(keys.c.scope == scope, keys.c.key == key, keys.c.status_code.is_(None)))

