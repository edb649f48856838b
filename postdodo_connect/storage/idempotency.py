"""Idempotency keys: the first response of a (workspace, key) pair, replayed for 24 hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .db import Database
from .schema import idempotency_keys as keys


def reserve(db: Database, scope: str, key: str, fingerprint: str, now: datetime, ttl: float) -> dict[str, Any] | None:
    """Claim the key for this request; returns None when claimed, else the existing row."""
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
                return dict(row._mapping)
    raise RuntimeError("idempotency key kept changing hands")


def lookup(conn: Connection, scope: str, key: str) -> dict[str, Any] | None:
    """The row of a key, if any."""
    row = conn.execute(select(keys).where(keys.c.scope == scope, keys.c.key == key)).first()
    return dict(row._mapping) if row else None


def complete(db: Database, scope: str, key: str, status_code: int, response: str) -> None:
    """Store the response to replay."""
    with db.write() as conn:
        conn.execute(update(keys).where(keys.c.scope == scope, keys.c.key == key)
                     .values(status_code=status_code, response=response))


def release(db: Database, scope: str, key: str) -> None:
    """Forget a key whose request failed on our side, so a retry runs again."""
    with db.write() as conn:
        conn.execute(delete(keys).where(keys.c.scope == scope, keys.c.key == key, keys.c.status_code.is_(None)))


def purge(conn: Connection, before: datetime) -> int:
    """Drop keys older than the replay window."""
    return conn.execute(delete(keys).where(keys.c.created_at < before)).rowcount
