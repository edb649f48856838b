"""Build the service in-process for fast tests: settings, database, app, keys, a fake clock."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from postdodo_connect.api import Service, create_app
from postdodo_connect.config import Settings
from postdodo_connect.storage import Database, Vault, migrate
from postdodo_connect.storage import keys as keys_store
from postdodo_connect.storage.schema import metadata

SECRET = "test-secret-key-0123456789"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 7, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)
        return self.now


_migrated: set[str] = set()
_template: list[Path] = []


def _sqlite_template() -> Path:
    """A SQLite file migrated to head once per test process; each fresh database is a copy of it."""
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="postdodo-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        db = Database(f"sqlite:///{folder / 'head.db'}")
        migrate.upgrade(db)
        db.dispose()  # the last connection folds the WAL into the file, so the copy is complete
        _template.append(folder / "head.db")
    return _template[0]


def fresh_database(url: str) -> Database:
    """A database at the migrations' head with no rows (PostgreSQL: upgraded once, then truncated; SQLite: a copy)."""
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        if not path.exists():
            shutil.copyfile(_sqlite_template(), path)
        db = Database(url)
        migrate.upgrade(db)  # a no-op on a copy; brings an existing file up too
        return db
    db = Database(url)
    if url not in _migrated:
        migrate.upgrade(db)
        _migrated.add(url)
    with db.engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return db


@dataclass
class Api:
    """An in-process API with helpers to make workspaces and call it."""

    app: Flask
    service: Service

    @property
    def db(self) -> Database:
        return self.service.db

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def new_key(self, name: str = "ws", *, test: bool = True) -> str:
        """A new workspace and its key."""
        with self.db.write() as conn:
            workspace = keys_store.create_workspace(conn, name, test=test)
            _, key = keys_store.create_key(conn, workspace)
        return key

    def call(self, method: str, path: str, key: str | None = None, json: Any = None, **kwargs: Any) -> Any:
        """One request through the test client."""
        headers = kwargs.pop("headers", {})
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return self.client().open(path, method=method, json=json, headers=headers, **kwargs)

    def sandbox_account(self, key: str, platform: str = "bluesky", **extra: Any) -> dict[str, Any]:
        """Connect a sandbox account and return it."""
        response = self.call("POST", "/v1/accounts", key, json={"platform": platform, "mode": "sandbox", **extra})
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())


def make_api(url: str, clock: Any = None, kick: Any = None, **settings: Any) -> Api:
    """The API app on a fresh database."""
    db = fresh_database(url)
    config = Settings.from_env({}, database_url=url, secret_key=SECRET, **settings)
    service = Service(settings=config, db=db, vault=Vault(SECRET))
    if clock is not None:
        service.clock = clock
    if kick is not None:
        service.kick = kick
    app = create_app({"ACCESS_LOG": False, "TESTING": True}, service=service)
    return Api(app, service)
