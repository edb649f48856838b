"""Small named values the service keeps in its own database."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from .db import Database
from .schema import settings_table


def get_value(db: Database, name: str) -> Any:
    """A stored value, or None."""
    with db.read() as conn:
        row = conn.execute(select(settings_table.c.value).where(settings_table.c.name == name)).first()
    return row.value if row else None


def secret_key(db: Database) -> str:
    """The generated secret key of an embedded install (made once; every process reads the same)."""
    found = get_value(db, "secret_key")
    if found:
        return str(found)
    try:
        with db.write() as conn:
            conn.execute(insert(settings_table).values(name="secret_key", value=secrets.token_urlsafe(32)))
    except IntegrityError:
        pass  # another process made it first: use theirs
    return str(get_value(db, "secret_key"))
