"""Small named values the service keeps in its own database (markers and checks, never a key)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from .db import Database
from .schema import settings_table

#: where releases before the key file kept the generated key of an embedded install (read only to move it out)
LEGACY_SECRET_KEY = "secret_key"


def get_value(db: Database, name: str) -> Any:
    """A stored value, or None."""
    with db.read() as conn:
        row = conn.execute(select(settings_table.c.value).where(settings_table.c.name == name)).first()
    return row.value if row else None


def add_value(db: Database, name: str, value: Any) -> Any:
    """Store a value unless one is there already; returns the value that is stored (ours or the first one)."""
    try:
        with db.write() as conn:
            conn.execute(insert(settings_table).values(name=name, value=value))
    except IntegrityError:
        pass  # another process stored it first: theirs stands
    return get_value(db, name)


def delete_value(db: Database, name: str, *, only_if: Any = None) -> bool:
    """Forget a value (only when it still equals `only_if`, if given); True when a row went."""
    with db.write() as conn:
        row = conn.execute(select(settings_table.c.value).where(settings_table.c.name == name)).first()
        if row is None or (only_if is not None and row.value != only_if):
            return False
        conn.execute(delete(settings_table).where(settings_table.c.name == name))
    return True
