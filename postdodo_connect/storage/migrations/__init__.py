"""Alembic revisions of the service's schema; run them with `postdodo migrate` (storage/migrate.py)."""
