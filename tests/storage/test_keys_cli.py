"""`postdodo keys ...`: names the database it uses, never creates one from list/rotate/revoke, right --test advice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from postdodo_connect.cli import main
from postdodo_connect.redact import redact_url
from tests.support.databases import scratch_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """POSTDODO_DATABASE_URL set to a fresh database (PostgreSQL's with a password the server ignores)."""
    for name in ("POSTDODO_SECRET_KEY", "POSTDODO_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'keys.db'}"
        monkeypatch.setenv("POSTDODO_DATABASE_URL", url)
        yield url
        return
    with scratch_database(pg_url, "keys") as plain:
        from postdodo_connect.storage import Database, migrate

        db = Database(plain)
        migrate.upgrade(db)  # PostgreSQL is migrated by `postdodo migrate`, never by `keys`
        db.dispose()
        url = make_url(plain).set(password="s3cret-pw").render_as_string(hide_password=False)
        monkeypatch.setenv("POSTDODO_DATABASE_URL", url)
        yield url


def test_keys_commands_name_their_database_without_the_password(
        db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--workspace", "acme", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["mode"] == "live"  # stdout stays one JSON document
    assert err == f"using database {redact_url(db_url)}\n" and "s3cret-pw" not in err
    assert main(["keys", "list"]) == 0
    out, err = capsys.readouterr()
    assert "acme" in out and err == f"using database {redact_url(db_url)}\n"


def test_test_flag_on_a_live_workspace_says_drop_it_on_stderr(
        db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--workspace", "acme"]) == 0
    capsys.readouterr()
    assert main(["keys", "create", "--workspace", "acme", "--test"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "error: workspace 'acme' is a live workspace; drop --test or pick another name" in err
    assert main(["keys", "create", "--workspace", "sandbox", "--test"]) == 0
    capsys.readouterr()
    assert main(["keys", "create", "--workspace", "sandbox"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "is a test workspace; add --test" in err


@pytest.mark.parametrize("action", [["list"], ["revoke", "key_x"], ["rotate", "key_x"]])
def test_keys_never_create_a_missing_sqlite_file(action: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("POSTDODO_DATABASE_URL", raising=False)  # the default: ./postdodo.db
    monkeypatch.chdir(tmp_path)
    assert main(["keys", *action]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: no database at sqlite:///postdodo.db (") and "does not exist" in err
    assert "POSTDODO_DATABASE_URL" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_postgresql_is_one_line_without_the_password(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.server import free_port

    monkeypatch.setenv("POSTDODO_DATABASE_URL", f"postgresql+psycopg://u:s3cret-pw@127.0.0.1:{free_port()}/x")
    assert main(["keys", "list"]) == 2
    err = capsys.readouterr().err
    assert "error: cannot reach database postgresql+psycopg://u:***@127.0.0.1:" in err
    assert "s3cret-pw" not in err and "Traceback" not in err
