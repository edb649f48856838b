"""Extra PostgreSQL databases for tests that need an empty or a legacy one, beside POSTDODO_TEST_DATABASE_URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def scratch_database(pg_url: str, suffix: str) -> Iterator[str]:
    """A new empty database named `<test database>_<suffix>`, dropped afterwards; yields its URL."""
    url = make_url(pg_url)
    name = f"{url.database}_{suffix}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load_sql(url: str, script: str) -> None:
    """Run a plain pg_dump script (psql's backslash commands left out) on the database at `url`."""
    body = "\n".join(line for line in script.splitlines() if not line.startswith("\\"))
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            raw: Any = conn.connection.driver_connection
            raw.execute(body)  # no parameters: psycopg sends it as one simple query, many statements
    finally:
        engine.dispose()  # the dump empties search_path for its session: never reuse that connection
