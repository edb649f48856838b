"""`postdodo keys create|list|rotate|revoke`: API keys straight in the database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import ConfigurationError
from ..models import format_time
from ..redact import redact_url

if TYPE_CHECKING:
    from ..storage import Database

# storage is imported inside each command: it needs the [server] extra, and the client commands must not load it


def register(commands: Any) -> None:
    """Add the `keys` subcommands."""
    parser = commands.add_parser("keys", help="create, list, rotate and revoke API keys")
    sub = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create a key (and its workspace when new); prints it once")
    create.add_argument("--workspace", required=True, help="workspace name")
    create.add_argument("--test", action="store_true", help="a sandbox workspace (pd_test_ keys)")
    create.add_argument("--json", action="store_true", help="machine-readable output")
    create.set_defaults(func=cmd_create)
    listing = sub.add_parser("list", help="list keys (never the keys themselves)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
    for name, func, text in (("rotate", cmd_rotate, "replace a key: the old one stops at once"),
                             ("revoke", cmd_revoke, "stop a key at once")):
        action = sub.add_parser(name, help=text)
        action.add_argument("key_id", help="key_... id from `postdodo keys list`")
        action.add_argument("--json", action="store_true")
        action.set_defaults(func=func)


def sqlite_file(url: str) -> Path | None:
    """The file a sqlite:/// URL names (None for other databases and in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    return Path(name) if name and name != ":memory:" else None


def _db(*, create: bool = False) -> Database:
    """The configured database, named on stderr; only `keys create` may make a new SQLite file."""
    # like `postdodo serve`: SQLite is migrated here, PostgreSQL must be at head already (`postdodo migrate`)
    from sqlalchemy.exc import OperationalError

    from ..storage.migrate import open_database

    url = Settings.from_env().database_url
    path = sqlite_file(url)
    if not create and path is not None and not path.exists():
        # a typo'd URL or the wrong directory must not leave an empty postdodo.db behind
        raise ConfigurationError(f"no database at {redact_url(url)} ({path.resolve()} does not exist): "
                                 "set POSTDODO_DATABASE_URL to the database `postdodo serve` uses")
    print(f"using database {redact_url(url)}", file=sys.stderr)
    try:
        return open_database(url, migrate_sqlite=True)
    except OperationalError as exc:
        raise ConfigurationError(f"cannot reach database {redact_url(url)}: "
                                 f"{' '.join(str(exc.orig).split())}") from None


def _show_new(row: dict[str, Any], key: str, workspace: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"id": row["id"], "key": key, "workspace_id": workspace["id"],
                          "workspace": workspace["name"], "mode": workspace["mode"]}))
    else:
        print(f"{key}\n(key {row['id']} for workspace {workspace['name']!r}; shown once, store it now)")


def cmd_create(args: argparse.Namespace) -> int:
    """Create a key, making the workspace on first use."""
    from ..storage import keys as store

    db = _db(create=True)
    with db.write() as conn:
        workspace = store.find_workspace(conn, args.workspace)
        if workspace is None:
            workspace = store.create_workspace(conn, args.workspace, test=args.test)
        elif args.test != (workspace["mode"] == "test"):
            print(f"error: workspace {args.workspace!r} is a {workspace['mode']} workspace; "
                  f"{'drop' if args.test else 'add'} --test or pick another name", file=sys.stderr)
            return 1
        row, key = store.create_key(conn, workspace)
    _show_new(row, key, workspace, args.json)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print every key with its workspace."""
    from ..storage import keys as store

    with _db().read() as conn:
        rows = store.list_keys(conn)
    if args.json:
        print(json.dumps([{**r, "created_at": format_time(r["created_at"]),
                           "revoked_at": r["revoked_at"] and format_time(r["revoked_at"]),
                           "last_used_at": r["last_used_at"] and format_time(r["last_used_at"])} for r in rows]))
        return 0
    print(f"{'ID':<22} {'KEY':<16} {'WORKSPACE':<20} {'MODE':<5} {'STATE':<8} {'CREATED':<21} LAST USED")
    for r in rows:
        state = "revoked" if r["revoked_at"] else "active"
        used = format_time(r["last_used_at"]) if r["last_used_at"] else "never"
        print(f"{r['id']:<22} {r['hint']:<16} {r['workspace'][:20]:<20} {r['mode']:<5} {state:<8} "
              f"{format_time(r['created_at']):<21} {used}")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    """Revoke a key and print its replacement."""
    from ..storage import keys as store

    db = _db()
    with db.write() as conn:
        result = store.rotate_key(conn, args.key_id)
        workspace = store.get_workspace(conn, result[0]["workspace_id"]) if result else None
    if result is None or workspace is None:
        print(f"no active key {args.key_id}")
        return 1
    _show_new(result[0], result[1], workspace, args.json)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke a key."""
    from ..storage import keys as store

    with _db().write() as conn:
        row = store.revoke_key(conn, args.key_id)
    if row is None:
        print(f"no active key {args.key_id}")
        return 1
    print(json.dumps({"id": row["id"], "revoked": True}) if args.json else f"revoked {row['id']}")
    return 0
