"""`postdodo secret-key export FILE`: move a key an earlier release kept in the database out to a 0600 file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    """Add the `secret-key` subcommands."""
    parser = commands.add_parser("secret-key", help="manage the secret key that seals stored credentials")
    sub = parser.add_subparsers(dest="secret_key_command", required=True, metavar="ACTION")
    export = sub.add_parser("export", help="write the key an earlier release kept in the database to FILE "
                                           "(mode 0600) and remove it from the database")
    export.add_argument("file", type=Path, help="where to write the key; must not exist yet")
    export.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the legacy key to a new file, then delete it from the settings table; never prints it."""
    from ..config import Settings
    from ..storage import Database, keyfile, meta

    path: Path = args.file
    db = Database(Settings.from_env().database_url)
    try:
        legacy = meta.get_value(db, meta.LEGACY_SECRET_KEY)
        if legacy is None:
            print("this database holds no secret key to export (it is already kept outside the database)")
            return 1
        if path.exists() and keyfile.read(path) != legacy:
            print(f"error: {path} exists and holds another key; choose a new file name")
            return 1
        if keyfile.create(path, str(legacy)) != legacy:
            print(f"error: {path} was created meanwhile with another key; choose a new file name")
            return 1
        meta.delete_value(db, meta.LEGACY_SECRET_KEY, only_if=legacy)
    finally:
        db.dispose()
    print(f"wrote the secret key to {path} (mode 0600) and removed it from the database")
    print(f"start every process with POSTDODO_SECRET_KEY_FILE={path} (or POSTDODO_SECRET_KEY set to its content)")
    return 0
