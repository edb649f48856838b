"""Lease owners: one row per engine or worker process start, beating while it lives (engine/leases.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select, update

from .schema import deliveries, lease_owners, targets


def register(conn: Connection, owner_id: str, *, role: str, host: str, scope: str, pid: int,
             pid_started: str | None, now: datetime) -> None:
    """Record a process that is about to hold leases."""
    conn.execute(insert(lease_owners).values(id=owner_id, role=role, host=host, scope=scope, pid=pid,
                                             pid_started=pid_started, started_at=now, beat_at=now))


def beat(conn: Connection, owner_id: str, now: datetime) -> bool:
    """Say the owner is alive at `now`; False when its row is gone (a successor declared it dead)."""
    return conn.execute(update(lease_owners).where(lease_owners.c.id == owner_id).values(beat_at=now)).rowcount == 1


def remove(conn: Connection, owner_id: str) -> None:
    """A clean stop: the owner holds nothing any more."""
    conn.execute(delete(lease_owners).where(lease_owners.c.id == owner_id))


def others(conn: Connection, owner_id: str) -> list[Any]:
    """Every registered owner but this one."""
    return list(conn.execute(select(lease_owners).where(lease_owners.c.id != owner_id)).all())


def forget(conn: Connection, owner_ids: Sequence[str]) -> int:
    """Drop dead owners that no longer hold any lease (the reaper took everything back)."""
    if not owner_ids:
        return 0
    holds = [exists().where(table.c.lease_owner == lease_owners.c.id, table.c.status == busy)
             for table, busy in ((targets, "publishing"), (deliveries, "delivering"))]
    return conn.execute(delete(lease_owners).where(lease_owners.c.id.in_(owner_ids), ~holds[0], ~holds[1])).rowcount
