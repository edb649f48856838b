"""The engine's heartbeat: a row of the settings table the scheduler rewrites, read by /healthz and /metrics."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .schema import settings_table

NAME = "engine_heartbeat"
EVERY = 10.0  # seconds between a scheduler's beats
STALE_AFTER = 60.0  # seconds without a beat before /healthz calls the engine stale


def beat(conn: Connection, now: datetime) -> None:
    """Record that a scheduler is alive at `now` (the newest beat of any engine wins)."""
    value = {"at": now.timestamp(), "host": socket.gethostname(), "pid": os.getpid()}
    where = settings_table.c.name == NAME
    if conn.execute(update(settings_table).where(where).values(value=value)).rowcount == 0:
        conn.execute(_insert_once(conn).values(name=NAME, value=value))


def _insert_once(conn: Connection) -> Any:
    """An INSERT that does nothing when another engine's first beat got there first."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(settings_table).on_conflict_do_nothing()
    return insert(settings_table).prefix_with("OR IGNORE")


def last(conn: Connection) -> dict[str, Any] | None:
    """The last beat as {"at": epoch seconds, "host", "pid"}, or None when no engine ever ran."""
    row = conn.execute(select(settings_table.c.value).where(settings_table.c.name == NAME)).first()
    return dict(row.value) if row and isinstance(row.value, dict) else None


def age(conn: Connection, now: datetime) -> float | None:
    """Seconds since the last beat, or None."""
    found = last(conn)
    return None if found is None else max(0.0, now.timestamp() - float(found["at"]))
