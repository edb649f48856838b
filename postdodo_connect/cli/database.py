"""`postdodo migrate`: bring the database schema to this release's revision (or print the SQL that would)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..config import Settings
from ..redact import redact_url


def register(commands: Any) -> None:
    """Add `migrate`."""
    parser = commands.add_parser(
        "migrate", help="upgrade the database schema to this release (run before starting API processes)",
        description="Upgrade the database at POSTDODO_DATABASE_URL to this release's schema. Safe to run "
                    "again and from several machines at once; a database made by 0.1.0 is adopted as is.")
    parser.add_argument("--sql", action="store_true",
                        help="print the SQL instead of running it (nothing connects to the database)")
    parser.add_argument("--from", dest="start", metavar="REVISION",
                        help="with --sql: the revision the database is at (default: an empty database)")
    parser.set_defaults(func=cmd_migrate)


def cmd_migrate(args: argparse.Namespace) -> int:
    """Upgrade to head, printing the database and the revisions before and after."""
    from ..storage import Database, migrate

    url = Settings.from_env().database_url
    if args.sql:
        migrate.upgrade_sql(url, sys.stdout, start=args.start)
        return 0
    if args.start:
        print("error: --from only applies with --sql", file=sys.stderr)
        return 2
    from sqlalchemy.exc import OperationalError

    db = Database(url)
    try:
        done = migrate.upgrade(db)
    except OperationalError as exc:
        # the driver's own words (host, port, reason) without SQLAlchemy's statement dump; never the password
        print(f"error: cannot reach database {redact_url(url)}: {' '.join(str(exc.orig).split())}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    before = "0.1.0 (unversioned, adopted)" if done.adopted else done.before or "empty"
    state = "already at" if done.before == done.after else f"{before} ->"
    print(f"database {redact_url(url)}: {state} {done.after}", flush=True)
    return 0


__all__ = ["cmd_migrate", "register"]
