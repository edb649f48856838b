"""Storage: SQLAlchemy Core tables and queries, one code path for SQLite and PostgreSQL."""

from __future__ import annotations

from .db import Database, utcnow
from .ids import new_id
from .vault import Vault

__all__ = ["Database", "Vault", "new_id", "utcnow"]
