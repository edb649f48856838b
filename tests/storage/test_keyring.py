"""The secret key at start: a 0600 file beside SQLite, a verifier that refuses a changed or missing key, re-sealing."""

from __future__ import annotations

import base64
import hashlib
import stat
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from postdodo_connect.config import Settings
from postdodo_connect.errors import ConfigurationError
from postdodo_connect.storage import Database, Vault, keyfile, keyring, meta
from postdodo_connect.storage import accounts as accounts_store
from postdodo_connect.storage import keys as keys_store
from postdodo_connect.storage import webhooks as webhooks_store
from postdodo_connect.storage.schema import accounts, idempotency_keys, settings_table, webhook_endpoints
from tests.support.factory import FakeClock, fresh_database

KEY = "the-right-secret-key-0123456789"
OTHER = "another-secret-key-9876543210"


def legacy_seal(secret_key: str, value: str) -> str:
    """A token as releases before the HKDF change sealed it."""
    derived = hashlib.sha256(b"postdodo-vault:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived)).encrypt(value.encode()).decode()


def settings_for(db: Database, **values: str) -> Settings:
    return Settings.from_env({}, database_url=db.url, **values)


def seal_some(db: Database, seal: object) -> dict[str, str]:
    """An account with credentials and a webhook endpoint, sealed by `seal`; returns their ids."""
    assert callable(seal)
    now = FakeClock()()
    with db.write() as conn:
        workspace = keys_store.create_workspace(conn, "ws", test=False)
        account = accounts_store.create_account(conn, workspace["id"], platform="bluesky", handle="h",
                                                display_name="h", mode="live",
                                                credentials=seal('{"password": "app-password"}'))
        endpoint = webhooks_store.create_endpoint(conn, workspace["id"], url="https://example.com/hook", events_=[],
                                                  description=None, sealed_secret=seal("whsec_current"), now=now)
        conn.execute(insert(idempotency_keys).values(scope=workspace["id"], key="k", fingerprint="f", status_code=201,
                                                     response=seal('{"id": "post_1"}'), created_at=now))
    return {"account": account["id"], "endpoint": endpoint["id"], "workspace": workspace["id"]}


def test_a_fresh_sqlite_install_keeps_its_key_in_a_0600_file_beside_the_database(tmp_path: Path) -> None:
    db = fresh_database(f"sqlite:///{tmp_path / 'postdodo.db'}")
    first = keyring.secure_start(settings_for(db), db)
    path = tmp_path / "postdodo.db.key"
    assert path.read_text().strip() == first.secret_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert meta.get_value(db, meta.LEGACY_SECRET_KEY) is None
    with db.read() as conn:  # nothing in the database is the key
        values = [str(v) for v in conn.execute(select(settings_table.c.value)).scalars()]
    assert first.secret_key not in values
    assert keyring.secure_start(settings_for(db), db).secret_key == first.secret_key


def _create_in_other_process(path: str) -> str:
    return keyfile.create(Path(path), keyfile.generate())


def test_processes_racing_to_create_the_key_file_all_get_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "race.db.key"
    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(_create_in_other_process, [str(path)] * 8))
    assert len(set(keys)) == 1 and path.read_text().strip() == keys[0]
    assert [p.name for p in tmp_path.iterdir()] == ["race.db.key"]  # no temporary file left behind


def _start_in_other_process(url: str) -> str | None:
    db = Database(url)
    try:
        return keyring.secure_start(Settings.from_env({}, database_url=url), db).secret_key
    finally:
        db.dispose()


def test_processes_starting_a_fresh_install_at_once_agree_on_one_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    fresh_database(url).dispose()  # the schema first, as `postdodo migrate` would
    with ProcessPoolExecutor(max_workers=4) as pool:
        keys = set(pool.map(_start_in_other_process, [url] * 4))
    assert len(keys) == 1 and (tmp_path / "fresh.db.key").read_text().strip() in keys


def test_a_start_that_missed_the_key_file_another_start_was_making_uses_that_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving the test above can hit: this start finds no file, then another start creates the file
    and records its key's verifier, then this start finds sealed data: it must take the new file, not refuse."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    fresh_database(url).dispose()
    read = keyfile.read
    theirs: list[str | None] = []
    missed: list[Path] = []

    def missed_while_another_start_made_it(path: Path) -> str:
        if not missed:
            missed.append(path)
            theirs.append(_start_in_other_process(url))  # the other start runs to its end meanwhile
            raise FileNotFoundError(path)
        return read(path)

    monkeypatch.setattr(keyfile, "read", missed_while_another_start_made_it)
    assert _start_in_other_process(url) == theirs[0] == read(tmp_path / "fresh.db.key")


def test_a_legacy_key_in_the_settings_table_moves_to_the_file_and_old_tokens_are_resealed(tmp_path: Path) -> None:
    db = fresh_database(f"sqlite:///{tmp_path / 'old.db'}")
    legacy = "legacy-generated-key-0123456789abcdef"
    with db.write() as conn:
        conn.execute(insert(settings_table).values(name=meta.LEGACY_SECRET_KEY, value=legacy))
    ids = seal_some(db, lambda value: legacy_seal(legacy, value))
    settings = keyring.secure_start(settings_for(db), db)
    assert settings.secret_key == legacy
    assert (tmp_path / "old.db.key").read_text().strip() == legacy
    assert meta.get_value(db, meta.LEGACY_SECRET_KEY) is None
    with db.read() as conn:
        sealed = conn.execute(select(accounts.c.credentials).where(accounts.c.id == ids["account"])).scalar_one()
    assert sealed != legacy_seal(legacy, "x") and Vault(legacy).open(sealed) == '{"password": "app-password"}'
    assert Vault(legacy).reseal(sealed) is None  # already under the HKDF-derived key


def test_resealing_is_idempotent_and_safe_from_two_threads(db: Database) -> None:
    ids = seal_some(db, lambda value: legacy_seal(KEY, value))
    vault = Vault(KEY)
    counts: list[int] = []
    threads = [threading.Thread(target=lambda: counts.append(keyring.reseal(db, vault, batch=1))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) >= 3  # every token once at least; a lost race only skips a row
    assert keyring.reseal(db, vault) == 0
    with db.read() as conn:
        endpoint = conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.id == ids["endpoint"])).one()
        response = conn.execute(select(idempotency_keys.c.response)).scalar_one()
    assert vault.open(endpoint.secret) == "whsec_current"
    assert vault.open(response) == '{"id": "post_1"}'


def test_the_right_key_starts_and_a_changed_key_is_refused_at_start(db: Database) -> None:
    seal_some(db, Vault(KEY).seal)
    assert keyring.secure_start(settings_for(db, secret_key=KEY), db).secret_key == KEY
    assert meta.get_value(db, keyring.VERIFIER) not in (None, KEY)
    with pytest.raises(ConfigurationError) as caught:
        keyring.secure_start(settings_for(db, secret_key=OTHER), db)
    message = str(caught.value)
    assert "POSTDODO_SECRET_KEY" in message and "not the key this database was sealed with" in message
    assert OTHER not in message and KEY not in message
    assert keyring.secure_start(settings_for(db, secret_key=KEY), db).secret_key == KEY


def test_an_install_from_before_the_verifier_is_checked_against_its_sealed_data(db: Database) -> None:
    seal_some(db, lambda value: legacy_seal(KEY, value))
    with pytest.raises(ConfigurationError, match="not the key this database was sealed with"):
        keyring.secure_start(settings_for(db, secret_key=OTHER), db)
    assert meta.get_value(db, keyring.VERIFIER) is None  # a wrong key leaves no verifier behind
    keyring.secure_start(settings_for(db, secret_key=KEY), db)


def test_a_missing_key_file_with_sealed_data_is_refused(tmp_path: Path) -> None:
    db = fresh_database(f"sqlite:///{tmp_path / 'postdodo.db'}")
    settings = keyring.secure_start(settings_for(db), db)
    assert settings.secret_key
    seal_some(db, Vault(settings.secret_key).seal)
    (tmp_path / "postdodo.db.key").unlink()
    with pytest.raises(ConfigurationError) as caught:
        keyring.secure_start(settings_for(db), db)
    assert "postdodo.db.key is missing" in str(caught.value)
    assert not (tmp_path / "postdodo.db.key").exists()  # no new key was made to replace it
    restored = keyring.secure_start(settings_for(db, secret_key=settings.secret_key), db)
    assert restored.secret_key == settings.secret_key


def test_a_key_file_setting_is_read(tmp_path: Path, db: Database) -> None:
    path = tmp_path / "secret.key"
    keyfile.create(path, KEY)
    assert keyring.secure_start(settings_for(db, secret_key_file=str(path)), db).secret_key == KEY
    with pytest.raises(ConfigurationError, match="no such file"):
        keyring.secure_start(settings_for(db, secret_key_file=str(tmp_path / "absent.key")), db)


def test_postgresql_requires_a_key_and_says_how_to_move_a_legacy_one(pg_url: str) -> None:
    from tests.support.factory import fresh_database

    db = fresh_database(pg_url)
    try:
        with pytest.raises(ConfigurationError, match="POSTDODO_SECRET_KEY .* is required with PostgreSQL"):
            keyring.secure_start(settings_for(db), db)
        legacy = "legacy-generated-key-0123456789abcdef"
        with db.write() as conn:
            conn.execute(insert(settings_table).values(name=meta.LEGACY_SECRET_KEY, value=legacy))
        with pytest.raises(ConfigurationError) as caught:
            keyring.secure_start(settings_for(db), db)
        assert "postdodo secret-key export" in str(caught.value) and legacy not in str(caught.value)
        # with the key given, the legacy copy leaves the database
        keyring.secure_start(settings_for(db, secret_key=legacy), db)
        assert meta.get_value(db, meta.LEGACY_SECRET_KEY) is None
    finally:
        db.dispose()


def test_secret_key_export_moves_a_legacy_postgresql_key_to_a_file(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from postdodo_connect.cli import main
    from tests.support.factory import fresh_database

    db = fresh_database(pg_url)
    legacy = "legacy-generated-key-0123456789abcdef"
    with db.write() as conn:
        conn.execute(insert(settings_table).values(name=meta.LEGACY_SECRET_KEY, value=legacy))
    seal_some(db, lambda value: legacy_seal(legacy, value))
    monkeypatch.setenv("POSTDODO_DATABASE_URL", pg_url)
    target = tmp_path / "secret.key"
    try:
        assert main(["secret-key", "export", str(target)]) == 0
        out = capsys.readouterr().out
        assert f"POSTDODO_SECRET_KEY_FILE={target}" in out and legacy not in out
        assert target.read_text().strip() == legacy and stat.S_IMODE(target.stat().st_mode) == 0o600
        assert meta.get_value(db, meta.LEGACY_SECRET_KEY) is None
        assert main(["secret-key", "export", str(tmp_path / "again.key")]) == 1
        settings = keyring.secure_start(settings_for(db, secret_key_file=str(target)), db)
        assert settings.secret_key == legacy
    finally:
        db.dispose()


def test_one_damaged_value_does_not_block_the_start(db: Database) -> None:
    ids = seal_some(db, lambda value: legacy_seal(KEY, value))
    with db.write() as conn:
        conn.execute(webhook_endpoints.update().where(webhook_endpoints.c.id == ids["endpoint"])
                     .values(secret="gAAAAAB-damaged"))
    assert keyring.secure_start(settings_for(db, secret_key=KEY), db).secret_key == KEY
    with db.read() as conn:
        credentials = conn.execute(select(accounts.c.credentials)).scalar_one()
    assert Vault(KEY).reseal(credentials) is None  # the readable values were re-sealed
