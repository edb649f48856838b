"""`postdodo accounts list`: the workspace's connected accounts, through the API client."""

from __future__ import annotations

import argparse
from typing import Any

from .output import command, common_options, make_client, show


def register(commands: Any) -> None:
    """Add `accounts list`."""
    parser = commands.add_parser("accounts", help="list connected accounts (over HTTP)")
    sub = parser.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", parents=[common_options()], help="every connected account")
    listing.set_defaults(func=cmd_list)


@command
def cmd_list(args: argparse.Namespace) -> int:
    """Print the accounts."""
    return show(make_client(args).accounts.list(), args.json, (
        ("id", lambda a: a.id), ("platform", lambda a: a.platform), ("handle", lambda a: a.handle),
        ("name", lambda a: a.display_name), ("mode", lambda a: a.mode), ("status", lambda a: a.status),
    ), empty="no accounts connected")


__all__ = ["cmd_list", "register"]
