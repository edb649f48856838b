"""Alembic's entry point, driven by storage/migrate.py (no alembic.ini): online on its connection, or --sql."""

from __future__ import annotations

from alembic import context

from postdodo_connect.storage.migrate import AUTOGENERATE

config = context.config

if context.is_offline_mode():
    url: str = config.attributes["url"]
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"},
                      render_as_batch=url.startswith("sqlite"), **AUTOGENERATE)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes["connection"]
    # SQLite cannot ALTER most things: batch mode rebuilds the table instead
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite", **AUTOGENERATE)
    with context.begin_transaction():  # a no-op: the caller's transaction (and lock) already surrounds this
        context.run_migrations()
