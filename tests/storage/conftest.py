"""Every storage test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from postdodo_connect.storage import Database
from tests.support.factory import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Database:
    """A fresh database of each kind."""
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else pg_url
    database = fresh_database(url)
    request.addfinalizer(database.dispose)
    return database
