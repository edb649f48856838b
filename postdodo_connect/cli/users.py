"""`postdodo users create|reset-password|list`: the people who sign in to the dashboard."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ..errors import InvalidRequestError, NotFoundError
from ..models import format_time
from .keys import _db

# storage is imported inside each command: it needs the [server] extra (argon2 among it)


def register(commands: Any) -> None:
    """Add the `users` subcommands."""
    parser = commands.add_parser("users", help="create dashboard users and reset their passwords")
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create a user who may sign in to the dashboard")
    create.add_argument("--email", required=True, help="the address they sign in with")
    create.add_argument("--workspace", action="append", default=[], metavar="NAME",
                        help="a workspace they may see (repeat for several; default: every workspace)")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input instead of asking for it")
    create.set_defaults(func=cmd_create)
    reset = sub.add_parser("reset-password", help="set a user's password; signs them out everywhere")
    reset.add_argument("--email", required=True)
    reset.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input instead of asking for it")
    reset.set_defaults(func=cmd_reset)
    listing = sub.add_parser("list", help="list users and their workspaces")
    listing.set_defaults(func=cmd_list)


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or asked twice on the terminal (never an argument: ps shows those)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise InvalidRequestError("the two passwords differ")
    return first


def cmd_create(args: argparse.Namespace) -> int:
    """Create a user with a password and their workspaces."""
    from ..storage import keys as keys_store
    from ..storage import users

    password = _password(args.password_stdin)
    with _db().write() as conn:
        workspaces = []
        for name in args.workspace:
            found = keys_store.find_workspace(conn, name)
            if found is None:
                raise NotFoundError(f"no workspace named {name!r} (see `postdodo keys list`)")
            workspaces.append(found)
        user = users.create_user(conn, args.email, password)
        if workspaces:
            for workspace in workspaces:
                users.add_membership(conn, user["id"], workspace["id"])
            count = len(workspaces)
        else:
            count = users.join_all_workspaces(conn, user["id"], "member")
    print(f"created {user['id']} {user['email']} (member of {count} workspace{'s' if count != 1 else ''})")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    """Set a new password; every session of the user ends."""
    from ..storage import users

    with _db().read() as conn:
        user = users.find_user(conn, args.email)
    if user is None:
        raise NotFoundError(f"no user with the address {args.email.strip().lower()}")
    password = _password(args.password_stdin)
    with _db().write() as conn:
        users.set_password(conn, user["id"], password)
    print(f"password of {user['email']} changed; their sessions have ended")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """Every user with the workspaces they belong to."""
    from ..storage import users

    with _db().read() as conn:
        found = [(user, users.user_workspaces(conn, user["id"])) for user in users.list_users(conn)]
    print(f"{'ID':<22} {'EMAIL':<32} {'CREATED':<21} WORKSPACES")
    for user, workspaces in found:
        names = ", ".join(f"{w['name']} ({w['mode']})" for w in workspaces) or "-"
        print(f"{user['id']:<22} {user['email'][:32]:<32} {format_time(user['created_at']):<21} {names}")
    return 0
