"""Migrations on SQLite and PostgreSQL: no drift from schema.py, 0.1.0 databases adopted, concurrent runs safe."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text

from postdodo_connect.api import Service, create_app
from postdodo_connect.config import Settings
from postdodo_connect.errors import DatabaseOutOfDate
from postdodo_connect.storage import Database, Vault, migrate
from postdodo_connect.storage.schema import accounts, events, metadata, posts, targets
from tests.support.databases import load_sql, scratch_database

LEGACY = Path(__file__).parent / "legacy"
MANIFEST: dict[str, Any] = json.loads((LEGACY / "v0_1_0.json").read_text())
HEAD = migrate.head_revision()
# columns a later revision added: a database of 0.1.0 has none of them
BEHIND = f"database at revision none, this code needs {HEAD}: run `postdodo migrate`"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[str]:
    """The URL of a database with nothing in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with scratch_database(pg_url, "empty") as url:
            yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def legacy_url(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[str]:
    """A database written by release 0.1.0 (create_all, no alembic_version), from the committed fixtures."""
    if request.param == "sqlite":
        shutil.copyfile(LEGACY / "v0_1_0.db", tmp_path / "legacy.db")
        yield f"sqlite:///{tmp_path / 'legacy.db'}"
    else:
        with scratch_database(pg_url, "legacy") as url:
            load_sql(url, (LEGACY / "v0_1_0.pg.sql").read_text())
            yield url


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A Database on `empty_url` or `legacy_url`, whichever the test asked for."""
    url = request.getfixturevalue("legacy_url" if "legacy_url" in request.fixturenames else "empty_url")
    db = Database(url)
    yield db
    db.dispose()


def columns_of(db: Database) -> dict[str, set[str]]:
    """The columns each of our tables has in `db` now."""
    with db.read() as conn:
        inspector = inspect(conn)
        return {t.name: {c["name"] for c in inspector.get_columns(t.name)} for t in metadata.sorted_tables
                if inspector.has_table(t.name)}


def snapshot(db: Database, columns: dict[str, set[str]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables in `columns`, those columns only, in a stable order (later revisions add some)."""
    with db.read() as conn:
        old = {t.name: [c for c in t.c if c.name in columns[t.name]] for t in metadata.sorted_tables
               if t.name in columns}
        return {name: sorted((tuple(r) for r in conn.execute(select(*cols))), key=repr) for name, cols in old.items()}


def test_models_and_migrations_never_drift(empty_url: str, database: Database) -> None:
    migrate.upgrade(database)
    assert migrate.differences(database) == []


def test_an_empty_database_is_refused_until_migrated_and_migrating_twice_is_a_no_op(
        empty_url: str, database: Database) -> None:
    with pytest.raises(DatabaseOutOfDate) as refused:
        migrate.check(database)
    assert str(refused.value) == BEHIND
    assert migrate.upgrade(database) == migrate.Upgrade(None, migrate.head_revision())
    migrate.check(database)
    assert migrate.upgrade(database) == migrate.Upgrade(HEAD, HEAD)
    assert migrate.current_revision(database) == migrate.head_revision() == HEAD


def test_a_database_newer_than_this_code_is_refused(empty_url: str, database: Database) -> None:
    migrate.upgrade(database)
    with database.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff0000'"))
    for action in (migrate.check, migrate.upgrade):
        with pytest.raises(DatabaseOutOfDate, match="revision ffff0000, newer than this code .*upgrade postdodo-connect"):
            action(database)


def test_a_half_made_database_is_refused_not_stamped(empty_url: str, database: Database) -> None:
    with database.write() as conn:
        metadata.tables["workspaces"].create(conn)
    with pytest.raises(DatabaseOutOfDate, match="has some PostDodo tables but not accounts, api_keys"):
        migrate.upgrade(database)
    assert migrate.current_revision(database) is None


def test_a_database_of_release_0_1_0_upgrades_with_every_row_intact(legacy_url: str, database: Database) -> None:
    legacy_columns = columns_of(database)
    before = snapshot(database, legacy_columns)
    assert {name: len(rows) for name, rows in before.items()} == MANIFEST["counts"]
    with pytest.raises(DatabaseOutOfDate, match="revision none"):
        migrate.check(database)

    done = migrate.upgrade(database)

    assert done == migrate.Upgrade(None, migrate.head_revision(), adopted=True)
    assert snapshot(database, legacy_columns) == before
    with database.read() as conn:  # 0002: each post's event counter starts after the events it already has
        counters = dict(conn.execute(select(posts.c.id, posts.c.event_seq)).all())
        stored = dict(conn.execute(select(events.c.post_id, func.count()).group_by(events.c.post_id)).all())
    assert counters and counters == {post_id: stored.get(post_id, 0) for post_id in counters}
    with database.read() as conn:  # 0012: a confirmed target's publish tries are its attempts (no follow-ups then)
        tries = conn.execute(select(targets.c.status, targets.c.attempts, targets.c.tries)).all()
    assert {(status, attempts, count) for status, attempts, count in tries if status == "confirmed"} == {
        ("confirmed", 1, 1), ("confirmed", 2, 2)}
    assert all(count is None for status, _, count in tries if status != "confirmed")
    assert migrate.differences(database) == []
    with database.read() as conn:
        sealed = conn.execute(select(accounts.c.credentials)
                              .where(accounts.c.id == MANIFEST["accounts"]["bluesky"])).scalar_one()
    assert Vault(MANIFEST["secret_key"]).open_json(sealed)["app_password"] == "abcd-efgh-ijkl-mnop"


def test_the_old_api_key_still_reads_its_posts_and_writes_after_the_upgrade(legacy_url: str, database: Database) -> None:
    migrate.upgrade(database)
    settings = Settings.from_env({}, database_url=legacy_url, secret_key=MANIFEST["secret_key"])
    service = Service(settings=settings, db=database, vault=Vault(MANIFEST["secret_key"]))
    service.kick = lambda: None
    client = create_app({"ACCESS_LOG": False, "TESTING": True}, service=service).test_client()
    live = {"Authorization": f"Bearer {MANIFEST['live_key']}"}

    posts_ids = MANIFEST["posts"]
    published = client.get(f"/v1/posts/{posts_ids['published']}", headers=live)
    assert published.status_code == 200
    body = published.get_json()
    assert body["status"] == "published" and body["caption"] == "Launch day"
    assert [t["permalink"] for t in body["targets"]] == ["https://bsky.app/profile/acme.bsky.social/post/3l1",
                                                        "https://mastodon.social/@acme/109"]
    listed = client.get("/v1/posts?limit=10", headers=live).get_json()["data"]
    assert {p["id"]: p["status"] for p in listed} == {
        posts_ids["published"]: "published", posts_ids["partially_published"]: "partially_published",
        posts_ids["scheduled"]: "scheduled", posts_ids["canceled"]: "canceled", posts_ids["retrying"]: "publishing"}
    sandbox = client.get(f"/v1/posts/{posts_ids['sandbox']}", headers={"Authorization": f"Bearer {MANIFEST['test_key']}"})
    assert sandbox.get_json()["status"] == "published"

    # new rows continue the old sequences (PostgreSQL's serials moved with the dump)
    created = client.post("/v1/posts", headers=live, json={
        "caption": "After the upgrade", "account_ids": [MANIFEST["accounts"]["bluesky"]],
        "scheduled_at": "2099-01-01T00:00:00Z"})
    assert created.status_code == 201, created.get_json()
    listed_events = client.get("/v1/events?limit=100", headers=live).get_json()["data"]
    assert listed_events[-1]["event"] == "post.scheduled"
    assert listed_events[-1]["data"]["post_id"] == created.get_json()["id"]
    assert listed_events[-1]["data"]["sequence"] == 1

    # an old post's next event is numbered after the events it had before the upgrade
    with database.read() as conn:
        had = conn.execute(select(func.count()).select_from(events)
                           .where(events.c.post_id == posts_ids["scheduled"])).scalar_one()
    assert client.delete(f"/v1/posts/{posts_ids['scheduled']}", headers=live).status_code == 200
    canceled = [e for e in client.get("/v1/events?limit=100", headers=live).get_json()["data"]
                if e["event"] == "post.canceled" and e["data"]["post_id"] == posts_ids["scheduled"]]
    assert [e["data"]["sequence"] for e in canceled] == [had + 1]


def test_concurrent_migrate_commands_upgrade_once_and_all_succeed(empty_url: str, database: Database) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")} | {"POSTDODO_DATABASE_URL": empty_url}
    procs = [subprocess.Popen([sys.executable, "-m", "postdodo_connect", "migrate"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0] * 4, results
    lines = sorted(out.strip().rpartition(": ")[2] for _, out, _ in results)
    assert lines == [f"already at {HEAD}"] * 3 + [f"empty -> {HEAD}"]
    with database.read() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
    assert migrate.differences(database) == []
