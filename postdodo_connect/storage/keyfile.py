"""The secret key kept in a file (mode 0600) beside an embedded install's SQLite database, never inside it."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from ..errors import ConfigurationError
from .vault import MIN_LENGTH

log = logging.getLogger("postdodo.keys")
SUFFIX = ".key"


def default_path(database_url: str) -> Path | None:
    """`<database file>.key` for a SQLite URL; None for PostgreSQL (its key must be given)."""
    if not database_url.startswith("sqlite"):
        return None
    database = make_url(database_url).database
    return Path(database + SUFFIX) if database else None


def generate() -> str:
    """A new random secret key."""
    return secrets.token_urlsafe(32)


def read(path: Path) -> str:
    """The key in a file; a file others may read is used but warned about."""
    try:
        mode = path.stat().st_mode
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigurationError(f"cannot read the secret key file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the secret key file %s can be read by other users: chmod 600 it", path)
    if len(key) < MIN_LENGTH:
        raise ConfigurationError(f"the secret key file {path} holds no key (or one shorter than {MIN_LENGTH} characters)")
    return key


def create(path: Path, key: str) -> str:
    """Write `key` to a new file at `path` unless one exists; returns the key the file holds.

    Two processes racing both end up with the first one's key: the file appears complete in one step
    (written to a private temporary name, then hard-linked into place, which fails when the name exists).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    _write_new(temporary, key)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    except OSError:
        # a file system without hard links: create the name exclusively and write into it
        try:
            _write_new(path, key)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return read(path)


def _write_new(path: Path, key: str) -> None:
    """Create `path` (failing if it exists) with mode 0600 and the key in it, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, (key + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
