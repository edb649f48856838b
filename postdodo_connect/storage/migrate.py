"""Schema migrations: upgrade to head under a lock, read revisions, refuse to run on a database that is behind.

Only `postdodo migrate` (and, on SQLite, `postdodo serve` and `postdodo keys`) changes the schema; every other
process checks the revision at start, so any number of API workers can start at once on a migrated database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, inspect, text

from ..errors import ConfigurationError, DatabaseOutOfDate
from .db import Database
from .schema import UTCDateTime, metadata

# alembic logs every step at INFO: callers print the one line that matters (from -> to)
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).with_name("migrations")
#: the revision equal to the schema release 0.1.0 made with create_all; such databases are stamped with it
BASELINE = "0001"
# one key for every `postdodo migrate` on a PostgreSQL server: "postdodo" in ASCII
_LOCK_KEY = int.from_bytes(b"postdodo", "big")
_BASELINE_TABLES = frozenset({
    "workspaces", "api_keys", "accounts", "posts", "targets", "events", "webhook_endpoints", "deliveries",
    "delivery_attempts", "idempotency_keys", "sandbox_posts", "settings",
})


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: the revision before (None: empty or unversioned), after, and whether it stamped 0.1.0."""

    before: str | None
    after: str
    adopted: bool = False


def render_item(kind: str, item: Any, _autogen_context: Any) -> str | bool:
    """Write UTCDateTime as the plain DateTime it stores, so revisions never import the app's types."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime()"
    return False


def include_name(name: str | None, kind: str, _parent: Any) -> bool:
    """Compare only PostDodo's tables (a shared database may hold others)."""
    return kind != "table" or name in metadata.tables


#: how autogenerate compares schema.py with a database, in env.py and in `differences`
AUTOGENERATE: dict[str, Any] = {"target_metadata": metadata, "render_item": render_item,
                                "include_name": include_name, "compare_type": True}


def _config(**attributes: Any) -> Config:
    """Alembic's configuration, built in code: users need no alembic.ini."""
    config = Config(output_buffer=attributes.pop("output", None))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes.update(attributes)
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The revision this code needs."""
    head = _scripts().get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def current_revision(db: Database) -> str | None:
    """The database's revision; None when it is empty or was made before migrations existed."""
    with db.read() as conn:
        return _revision(conn)


def _refuse_unknown(current: str | None) -> None:
    """Raise when a newer release migrated the database: this code cannot know its schema."""
    if current is None:
        return
    try:
        _scripts().get_revision(current)
    except CommandError:
        raise DatabaseOutOfDate(f"database at revision {current}, newer than this code (it needs "
                                f"{head_revision()}): upgrade postdodo-connect") from None


def _made_by_0_1(conn: Connection) -> bool:
    """True for a database of release 0.1.0: its tables exist but nothing recorded a revision."""
    found = _BASELINE_TABLES & set(inspect(conn).get_table_names())
    if found and found != _BASELINE_TABLES:
        raise DatabaseOutOfDate(f"database has some PostDodo tables but not {', '.join(sorted(_BASELINE_TABLES - found))}"
                                ": restore it from a backup or point POSTDODO_DATABASE_URL at an empty database")
    return bool(found)


def upgrade(db: Database) -> Upgrade:
    """Bring the schema to head in one transaction; safe to run from several processes at once."""
    with db.write() as conn:  # SQLite: BEGIN IMMEDIATE, so a second migrator waits for this one
        if not db.is_sqlite:
            # transactional DDL: the lock is held until the revision is committed, then the next one sees head
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        before = _revision(conn)
        _refuse_unknown(before)
        adopted = before is None and _made_by_0_1(conn)
        if adopted:
            command.stamp(_config(connection=conn), BASELINE)
        command.upgrade(_config(connection=conn), "head")
        after = _revision(conn)
    assert after is not None
    return Upgrade(before, after, adopted)


def upgrade_sql(url: str, out: TextIO, *, start: str | None = None) -> None:
    """Write the SQL of an upgrade to head (from `start`, else from an empty database) without connecting."""
    try:
        command.upgrade(_config(url=url, output=out), f"{start}:head" if start else "head", sql=True)
    except CommandError as exc:  # an unknown --from revision
        raise ConfigurationError(str(exc)) from None


def check(db: Database) -> None:
    """Raise DatabaseOutOfDate unless the database is at this code's revision."""
    current, head = current_revision(db), head_revision()
    if current == head:
        return
    _refuse_unknown(current)
    raise DatabaseOutOfDate(f"database at revision {current or 'none'}, this code needs {head}: "
                            "run `postdodo migrate`")


def open_database(url: str, *, migrate_sqlite: bool = False) -> Database:
    """A Database at head: SQLite upgraded when `migrate_sqlite`, anything else checked (DatabaseOutOfDate)."""
    db = Database(url)
    try:
        if migrate_sqlite and db.is_sqlite:
            upgrade(db)
        else:
            check(db)
    except BaseException:
        db.dispose()
        raise
    return db


def differences(db: Database) -> list[Any]:
    """What autogenerate would change between the database and schema.py (empty when models and revisions agree)."""
    from alembic.autogenerate import compare_metadata

    with db.read() as conn:
        context = MigrationContext.configure(conn, opts=AUTOGENERATE)
        return list(compare_metadata(context, metadata))


def make_revision(db: Database, message: str, *, rev_id: str | None = None) -> Path:
    """Write a new revision autogenerated against `db` (a database at head); returns its file (developers only)."""
    with db.write() as conn:
        script = command.revision(_config(connection=conn), message, autogenerate=True, rev_id=rev_id)
    assert script is not None and not isinstance(script, list)
    _scripts.cache_clear()
    return Path(script.path)


__all__ = ["BASELINE", "Upgrade", "check", "current_revision", "differences", "head_revision", "make_revision",
           "open_database", "upgrade", "upgrade_sql"]
