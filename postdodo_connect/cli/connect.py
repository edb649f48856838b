"""`postdodo accounts connect PLATFORM`: a connect session's link, opened in the browser, then its accounts."""

from __future__ import annotations

import argparse
import sys
import time
import webbrowser
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..client import Client
from ..models import ConnectSession
from .output import command, common_options, make_client, show

#: exit code of a session that failed or expired
EXIT_NOT_CONNECTED = 1


def add_parser(sub: Any, columns: Any) -> None:
    """Add `accounts connect` under `accounts`."""
    connect = sub.add_parser(
        "connect", parents=[common_options()],
        help="connect an account with a link: the platform's own consent screen (or PostDodo's form), then wait",
        description="Start a connect session, open its link in the browser (or print it) and wait until the "
                    "account is connected. Needs a pd_live_ key and, for OAuth platforms, the server's "
                    "POSTDODO_<PLATFORM>_CLIENT_ID/_CLIENT_SECRET (docs/connect.md).")
    connect.add_argument("platform", help="x, mastodon, bluesky, telegram, ... (GET /v1/connect/platforms)")
    connect.add_argument("--reconnect", metavar="ACCOUNT_ID", help="refresh this account's login in place")
    connect.add_argument("--instance-url", metavar="URL", help="Mastodon: your instance, e.g. mastodon.social")
    connect.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                         help="another session option (repeatable)")
    connect.add_argument("--select", action="append", default=[], metavar="OPTION_ID",
                         help="when the login reaches several targets (Pages, boards, channels), the one(s) to "
                              "connect; asked interactively otherwise")
    connect.add_argument("--redirect-url", metavar="URL",
                         help="where the browser ends (default: the server's own done page)")
    connect.add_argument("--no-browser", action="store_true", help="only print the link")
    connect.add_argument("--interval", type=float, default=2.0, metavar="SECONDS", help="how often to check")
    connect.set_defaults(func=cmd_connect, columns=columns)


@command
def cmd_connect(args: argparse.Namespace) -> int:
    """Start the session, hand the link to the user, wait for its end, print the accounts."""
    client = make_client(args)
    options = dict(_pair(o) for o in args.option)
    if args.instance_url:
        options["instance_url"] = args.instance_url
    redirect_url = args.redirect_url or f"{client.base_url}/v1/connect/done"
    session = client.connect.start(args.platform, redirect_url, account_id=args.reconnect, options=options or None)
    print(f"Open this link to connect {args.platform} (valid until {session.expires_at:%H:%M:%S} UTC):\n"
          f"  {session.url}", file=sys.stderr, flush=True)
    if not args.no_browser:
        webbrowser.open(session.url or "")
    session = wait(client, session, args.interval, time.sleep, lambda s: _choose(s, args.select))
    if session.status != "completed":
        error = session.error
        print(f"error: not connected ({session.status}): {error.message if error else 'no reason given'}",
              file=sys.stderr)
        return EXIT_NOT_CONNECTED
    wanted = set(session.account_ids)
    return show([a for a in client.accounts.list() if a.id in wanted], args.json, args.columns)


def wait(client: Client, session: ConnectSession, interval: float, sleep: Callable[[float], None],
         choose: Callable[[ConnectSession], list[str]]) -> ConnectSession:
    """Poll the session until it ends (the server expires it, so this ends too); pick options when asked."""
    while True:
        session = client.connect.get(session.id)
        if session.status == "needs_selection":
            session = client.connect.select(session.id, choose(session))
        if session.status in ("completed", "failed", "expired"):
            return session
        if datetime.now(UTC) > session.expires_at:
            return client.connect.get(session.id)  # the server says expired from now on
        sleep(interval)


def _choose(session: ConnectSession, preset: list[str]) -> list[str]:
    """The options to connect: --select, else asked on the terminal."""
    if preset:
        return preset
    listing = "\n".join(f"  {n}. {o.display_name} ({o.kind}, {o.handle}) id={o.id}"
                        for n, o in enumerate(session.options, 1))
    if not sys.stdin.isatty():
        raise ValueError(f"this login reaches several targets; run again with --select ID:\n{listing}")
    print(f"This login reaches several targets:\n{listing}", file=sys.stderr)
    answer = input("Connect which (numbers or ids, comma-separated)? ")
    by_number = {str(n): o.id for n, o in enumerate(session.options, 1)}
    return [by_number.get(part.strip(), part.strip()) for part in answer.split(",") if part.strip()]


def _pair(value: str) -> tuple[str, str]:
    key, sep, item = value.partition("=")
    if not sep or not key:
        raise ValueError(f"--option {value!r} must look like KEY=VALUE")
    return key.strip(), item


__all__ = ["add_parser", "cmd_connect", "wait"]
