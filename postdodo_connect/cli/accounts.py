"""`postdodo accounts list|add|remove`: the workspace's connected accounts, through the API client."""

from __future__ import annotations

import argparse
from typing import Any

from .output import command, common_options, make_client, show

_COLUMNS = (
    ("id", lambda a: a.id), ("platform", lambda a: a.platform), ("handle", lambda a: a.handle),
    ("name", lambda a: a.display_name), ("mode", lambda a: a.mode), ("status", lambda a: a.status),
)


def register(commands: Any) -> None:
    """Add `accounts list`, `accounts add` and `accounts remove`."""
    parser = commands.add_parser("accounts", help="list, connect and disconnect accounts (over HTTP)")
    sub = parser.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", parents=[common_options()], help="every connected account")
    listing.set_defaults(func=cmd_list)
    add = sub.add_parser("add", parents=[common_options()],
                         help="connect an account: live with --credential (checked against the platform first), "
                              "sandbox with a pd_test_ key")
    add.add_argument("platform", help="bluesky, mastodon, x, instagram, ... (see docs/platforms.md)")
    add.add_argument("--credential", "-c", action="append", default=[], metavar="KEY=VALUE",
                     help="a credential field of a live account; repeat for each (docs/platforms.md lists them)")
    add.add_argument("--handle", help="a sandbox account's handle")
    add.add_argument("--name", help="display name")
    add.add_argument("--fault", action="append", default=[], metavar="KEY=NUMBER",
                     help="a sandbox fault, e.g. latency_ms=200 or rate_limit_rate=0.5 (docs/api.md)")
    add.set_defaults(func=cmd_add)
    remove = sub.add_parser("remove", parents=[common_options()], help="disconnect an account")
    remove.add_argument("account_id")
    remove.set_defaults(func=cmd_remove)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} {value!r} must look like KEY=VALUE")
        pairs[key.strip()] = item
    return pairs


@command
def cmd_list(args: argparse.Namespace) -> int:
    """Print the accounts."""
    return show(make_client(args).accounts.list(), args.json, _COLUMNS, empty="no accounts connected")


@command
def cmd_add(args: argparse.Namespace) -> int:
    """Connect an account; the server checks live credentials with the platform before storing them."""
    credentials = _pairs(args.credential, "--credential") or None
    faults = {k: float(v) for k, v in _pairs(args.fault, "--fault").items()} or None
    account = make_client(args).accounts.create(args.platform, handle=args.handle, credentials=credentials,
                                                sandbox=faults, display_name=args.name)
    return show(account, args.json, _COLUMNS)


@command
def cmd_remove(args: argparse.Namespace) -> int:
    """Disconnect an account."""
    return show(make_client(args).accounts.delete(args.account_id), args.json, _COLUMNS)


__all__ = ["cmd_add", "cmd_list", "cmd_remove", "register"]
