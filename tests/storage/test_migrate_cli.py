"""`postdodo migrate`, and what every other entry point does with a database that is behind."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from postdodo_connect.cli import main
from postdodo_connect.redact import redact_url
from postdodo_connect.storage import Database, migrate
from tests.support.databases import scratch_database
from tests.support.server import start_server

HEAD = migrate.head_revision()
BEHIND = f"error: database at revision none, this code needs {HEAD}: run `postdodo migrate`\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty database named by POSTDODO_DATABASE_URL (PostgreSQL's with a password the server ignores)."""
    for name in ("POSTDODO_SECRET_KEY", "POSTDODO_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.db'}"
        monkeypatch.setenv("POSTDODO_DATABASE_URL", url)
        yield url
        return
    with scratch_database(pg_url, "cli") as plain:
        url = make_url(plain).set(password="s3cret-pw").render_as_string(hide_password=False)
        monkeypatch.setenv("POSTDODO_DATABASE_URL", url)
        yield url


def tables(url: str) -> list[str]:
    """The tables in the database (the SQLite file is not created by looking)."""
    if url.startswith("sqlite") and not Path(make_url(url).database or "").exists():
        return []
    db = Database(url)
    try:
        with db.read() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        db.dispose()


def test_migrate_prints_the_database_without_its_password_and_the_revisions(
        empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    shown = redact_url(empty_url)
    assert out == f"database {shown}: empty -> {HEAD}\ndatabase {shown}: already at {HEAD}\n"
    assert "s3cret-pw" not in out
    assert "alembic_version" in tables(empty_url) and "targets" in tables(empty_url)


def test_migrate_adopts_a_sqlite_database_of_release_0_1_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copyfile(Path(__file__).parent / "legacy" / "v0_1_0.db", tmp_path / "old.db")
    monkeypatch.setenv("POSTDODO_DATABASE_URL", f"sqlite:///{tmp_path / 'old.db'}")
    assert main(["engine"]) == 2
    assert capsys.readouterr().err == BEHIND
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == f"database sqlite:///{tmp_path / 'old.db'}: 0.1.0 (unversioned, adopted) -> {HEAD}\n"


def test_migrate_sql_prints_the_upgrade_and_touches_nothing(empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--sql"]) == 0
    sql = capsys.readouterr().out
    assert "CREATE TABLE workspaces" in sql and "CREATE INDEX ix_targets_due ON targets (status, next_attempt_at)" in sql
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in sql
    assert ("BIGSERIAL" in sql) == empty_url.startswith("postgresql")  # events.seq: the variant per dialect
    assert tables(empty_url) == []


def test_migrate_sql_from_a_revision_prints_only_what_follows(empty_url: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--sql", "--from", "0001"]) == 0
    sql = capsys.readouterr().out
    # the tables of 0001 are not made again (later revisions may create tables of their own)
    assert "CREATE TABLE workspaces" not in sql and "CREATE TABLE posts" not in sql
    assert "UPDATE alembic_version SET version_num='0002'" in sql
    assert main(["migrate", "--from", "0001"]) == 2
    assert capsys.readouterr().err == "error: --from only applies with --sql\n"


def test_processes_refuse_a_database_that_is_behind_with_one_line(
        empty_url: str, capsys: pytest.CaptureFixture[str], redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTDODO_REDIS_URL", redis_url)
    commands = [["engine"], ["worker", "--burst"]]
    if empty_url.startswith("postgresql"):  # on SQLite these two migrate (tested below)
        commands += [["serve", "--no-demo"], ["keys", "list"]]
    for argv in commands:
        assert main(argv) == 2, argv
        said = f"using database {redact_url(empty_url)}\n" if argv[0] == "keys" else ""  # keys name their database
        assert capsys.readouterr().err == said + BEHIND, argv
    assert tables(empty_url) == []


def test_keys_on_sqlite_migrates_like_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    monkeypatch.setenv("POSTDODO_DATABASE_URL", url)
    assert main(["keys", "create", "--workspace", "first", "--test", "--json"]) == 0
    assert '"workspace": "first"' in capsys.readouterr().out
    db = Database(url)
    assert migrate.current_revision(db) == migrate.head_revision()
    db.dispose()


def test_serve_on_sqlite_migrates_its_new_database_on_start(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        assert server.key and server.session().get(f"{server.url}/v1/accounts").status_code == 200
        db = Database(server.env["POSTDODO_DATABASE_URL"])
        assert migrate.current_revision(db) == HEAD
        db.dispose()
    finally:
        server.stop()


def test_the_api_app_from_the_environment_refuses_a_database_that_is_behind(
        empty_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from postdodo_connect.api import create_app

    monkeypatch.setenv("POSTDODO_SECRET_KEY", "migrate-test-secret-key-0123")  # PostgreSQL needs one
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert stopped.value.code == 4  # gunicorn's "app failed to load": the master stops, no respawn loop
    assert capsys.readouterr().err == BEHIND

    assert main(["migrate"]) == 0
    response = create_app({"ACCESS_LOG": False}).test_client().get("/healthz")
    assert response.status_code == 200


def test_migrate_explains_a_database_it_cannot_reach_or_a_revision_it_does_not_know(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POSTDODO_DATABASE_URL", "postgresql+psycopg://postdodo:s3cret-pw@127.0.0.1:1/postdodo")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach database postgresql+psycopg://postdodo:***@127.0.0.1:1/postdodo: ")
    assert "s3cret-pw" not in err and len(err.strip().splitlines()) == 1
    assert main(["migrate", "--sql", "--from", "9999"]) == 2
    assert "9999" in capsys.readouterr().err
