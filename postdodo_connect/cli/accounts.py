"""`postdodo accounts list|add|remove`: the workspace's connected accounts, through the API client."""

from __future__ import annotations

import argparse
from typing import Any

from ..models import SandboxFaults
from . import connect
from .output import command, common_options, make_client, show

_COLUMNS = (
    ("id", lambda a: a.id), ("platform", lambda a: a.platform), ("handle", lambda a: a.handle),
    ("name", lambda a: a.display_name), ("mode", lambda a: a.mode), ("status", lambda a: a.status),
)


def register(commands: Any) -> None:
    """Add `accounts list`, `accounts add`, `accounts remove` and `accounts connect`."""
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
                     help="a sandbox fault (repeatable), e.g. latency_ms=200 or rate_limit_rate=0.5; the faults: "
                          f"{', '.join(SandboxFaults.model_fields)} (docs/api.md)")
    add.set_defaults(func=cmd_add)
    remove = sub.add_parser("remove", parents=[common_options()], help="disconnect an account")
    remove.add_argument("account_id")
    remove.set_defaults(func=cmd_remove)
    connect.add_parser(sub, _COLUMNS)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} {value!r} must look like KEY=VALUE")
        pairs[key.strip()] = item
    return pairs


def _faults(pairs: dict[str, str]) -> dict[str, float]:
    """--fault values checked here, so a typo is answered with the list of faults rather than the API's 400."""
    bounds = {name: _bounds(info.metadata) for name, info in SandboxFaults.model_fields.items()}
    faults = {}
    for name, text in pairs.items():
        if name not in bounds:
            raise ValueError(f"--fault {name}: no such fault; the faults are {', '.join(bounds)}")
        low, high = bounds[name]
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"--fault {name}={text!r}: the value must be a number from {low:g} to {high:g}") from None
        if not low <= value <= high:
            raise ValueError(f"--fault {name}={text}: the value must be from {low:g} to {high:g}")
        faults[name] = value
    return faults


def _bounds(metadata: list[Any]) -> tuple[float, float]:
    low = next((float(m.ge) for m in metadata if hasattr(m, "ge")), 0.0)
    return low, next((float(m.le) for m in metadata if hasattr(m, "le")), float("inf"))


@command
def cmd_list(args: argparse.Namespace) -> int:
    """Print the accounts."""
    return show(make_client(args).accounts.list(), args.json, _COLUMNS, empty="no accounts connected")


@command
def cmd_add(args: argparse.Namespace) -> int:
    """Connect an account; the server checks live credentials with the platform before storing them."""
    credentials = _pairs(args.credential, "--credential") or None
    faults = _faults(_pairs(args.fault, "--fault")) or None
    account = make_client(args).accounts.create(args.platform, handle=args.handle, credentials=credentials,
                                                sandbox=faults, display_name=args.name)
    return show(account, args.json, _COLUMNS)


@command
def cmd_remove(args: argparse.Namespace) -> int:
    """Disconnect an account."""
    return show(make_client(args).accounts.delete(args.account_id), args.json, _COLUMNS)


__all__ = ["cmd_add", "cmd_list", "cmd_remove", "register"]
