"""The start-up check of the secret key: find it, prove it is the database's, re-seal old tokens once.

`secure_start(settings, db)` is called once per process before anything opens a sealed value:

1. the key comes from POSTDODO_SECRET_KEY, else POSTDODO_SECRET_KEY_FILE, else (SQLite only) the file
   `<database>.key`, generated on a fresh install; a key older releases kept in the `settings` table moves
   to that file and leaves the database;
2. a verifier in the `settings` table (an HMAC of a fixed label under a key derived from the secret, never
   the key) refuses a changed or missing key with a clear message, instead of stuck deliveries later;
3. tokens sealed with the pre-HKDF derivation are re-sealed with the current one, in small batches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table, exists, select, tuple_, update

from ..config import Settings
from ..errors import ConfigurationError
from . import keyfile, meta
from .db import Database
from .schema import accounts, idempotency_keys, webhook_endpoints
from .vault import Vault, verifier

log = logging.getLogger("postdodo.keys")

VERIFIER = "secret_key_check"
RESEALED = "vault_kdf"
KDF = "hkdf-sha256"
BATCH = 500
DOCS = "see docs/deployment.md#the-secret-key"

# every sealed column: (table, primary key columns, sealed column)
SEALED: tuple[tuple[Table, tuple[Column[Any], ...], Column[Any]], ...] = (
    (accounts, (accounts.c.id,), accounts.c.credentials),
    (webhook_endpoints, (webhook_endpoints.c.id,), webhook_endpoints.c.secret),
    (webhook_endpoints, (webhook_endpoints.c.id,), webhook_endpoints.c.previous_secret),
    (idempotency_keys, (idempotency_keys.c.scope, idempotency_keys.c.key), idempotency_keys.c.response),
)


def secure_start(settings: Settings, db: Database) -> Settings:
    """Settings holding the right secret key, or ConfigurationError saying what to do."""
    key, source = _find_key(settings, db)
    vault = Vault(key)
    _verify(db, vault, key, source)
    legacy = meta.get_value(db, meta.LEGACY_SECRET_KEY)
    if legacy is not None and meta.delete_value(db, meta.LEGACY_SECRET_KEY, only_if=key):
        log.info("moved the generated secret key out of the database into %s", source)
    elif legacy is not None:
        log.warning("the settings table still holds a secret key of an earlier release that is not the key in use; "
                    "delete the row named %r once you are sure it is not needed", meta.LEGACY_SECRET_KEY)
    if meta.get_value(db, RESEALED) != KDF:
        count = reseal(db, vault)
        meta.add_value(db, RESEALED, KDF)
        if count:
            log.info("re-sealed %d stored secrets with the HKDF-derived key", count)
    return settings.with_(secret_key=key)


def check(settings: Settings) -> Settings:
    """`secure_start` on a database opened just for it (processes that open their own later: RQ workers)."""
    from .migrate import open_database

    db = open_database(settings.database_url)  # refuses a database that is behind before reading its settings
    try:
        return secure_start(settings, db)
    finally:
        db.dispose()


def _find_key(settings: Settings, db: Database) -> tuple[str, str]:
    """The secret key and where it came from (for messages; never the key itself)."""
    if settings.secret_key:
        return settings.secret_key, "POSTDODO_SECRET_KEY"
    if settings.secret_key_file:
        given = Path(settings.secret_key_file)
        try:
            return keyfile.read(given), f"POSTDODO_SECRET_KEY_FILE={given}"
        except FileNotFoundError:
            raise ConfigurationError(f"POSTDODO_SECRET_KEY_FILE={given}: no such file") from None
    path = keyfile.default_path(db.url)
    legacy = meta.get_value(db, meta.LEGACY_SECRET_KEY)
    if path is None:
        if legacy is not None:
            raise ConfigurationError(
                "this PostgreSQL database holds the secret key an earlier release generated; move it to a file "
                "once with `postdodo secret-key export /path/to/secret.key` (written with mode 0600, then removed "
                "from the database) and start with POSTDODO_SECRET_KEY_FILE=/path/to/secret.key; " + DOCS)
        raise ConfigurationError(
            "POSTDODO_SECRET_KEY (or POSTDODO_SECRET_KEY_FILE) is required with PostgreSQL: every process must "
            "share one key; make one with `python -c \"import secrets; print(secrets.token_urlsafe(32))\"`; " + DOCS)
    try:
        return keyfile.read(path), str(path)
    except FileNotFoundError:
        pass
    if legacy is not None:
        return keyfile.create(path, str(legacy)), str(path)
    if _sealed_data(db):
        try:
            # a process starting beside this one may have made the file and verified its key since the read above
            return keyfile.read(path), str(path)
        except FileNotFoundError:
            pass
        raise ConfigurationError(
            f"the secret key file {path} is missing, but the database holds credentials and webhook secrets "
            "sealed with the key it held: restore the file from a backup (or set POSTDODO_SECRET_KEY to that key); "
            "a new key could not open them; " + DOCS)
    return keyfile.create(path, keyfile.generate()), str(path)


def _verify(db: Database, vault: Vault, key: str, source: str) -> None:
    """Refuse a key that is not the one the database was sealed with."""
    expected = verifier(key)
    stored = meta.get_value(db, VERIFIER)
    if stored is None:
        # first start of this release: prove the key on what is sealed, then remember it
        samples = list(_samples(db))
        # a wrong key opens none of them; one damaged value alone must not block the start
        if samples and not any(vault.can_open(token) for token in samples):
            raise ConfigurationError(_changed(source))
        stored = meta.add_value(db, VERIFIER, expected)
    if stored != expected:
        raise ConfigurationError(_changed(source))


def _changed(source: str) -> str:
    return (f"the secret key ({source}) is not the key this database was sealed with, so its platform "
            "credentials and webhook secrets cannot be opened: start with the original key; " + DOCS)


def _sealed_data(db: Database) -> bool:
    """True when anything is sealed (or a key was ever verified) in this database."""
    if meta.get_value(db, VERIFIER) is not None:
        return True
    with db.read() as conn:
        return any(conn.execute(select(exists().where(column.is_not(None)))).scalar()
                   for _table, _pk, column in SEALED)


def _samples(db: Database) -> Iterator[str]:
    """One sealed token of each column, where there is one."""
    with db.read() as conn:
        for table, _pk, column in SEALED:
            token = conn.execute(select(column).select_from(table).where(column.is_not(None)).limit(1)).scalar()
            if token:
                yield str(token)


def reseal(db: Database, vault: Vault, batch: int = BATCH) -> int:
    """Re-seal every token still sealed with the legacy derivation; safe to run in several processes at once."""
    count = 0
    for table, pk, column in SEALED:
        last: tuple[Any, ...] | None = None
        while True:
            query = select(*pk, column).where(column.is_not(None)).order_by(*pk).limit(batch)
            if last is not None:
                query = query.where(tuple_(*pk) > tuple_(*last))
            with db.read() as conn:
                rows = conn.execute(query).all()
            if not rows:
                break
            last = tuple(rows[-1][: len(pk)])
            changes = []
            for row in rows:
                try:
                    new = vault.reseal(row[-1])
                except ConfigurationError:
                    # the key was verified, so this one value is damaged: it must not block the start
                    log.warning("a value in %s.%s opens with no key; left as it is", table.name, column.name)
                    continue
                if new is not None:
                    changes.append((row, new))
            if changes:
                with db.write() as conn:
                    for row, new in changes:
                        # compare-and-set: a value written meanwhile (a rotation, a new answer) is left as it is
                        match = [col == value for col, value in zip(pk, row[: len(pk)], strict=True)]
                        count += conn.execute(
                            update(table).where(*match, column == row[-1]).values({column.name: new})).rowcount
    return count
