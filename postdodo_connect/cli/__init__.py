"""The `postdodo` command: run the service, manage keys (more subcommands join per module).

Command modules import server code (storage, API, engine) inside their command functions only, so the client
commands run on the bare install and start without loading Flask, SQLAlchemy or RQ."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from ..clihelp import Parser
from ..errors import PostDodoError
from ..extras import install_hint
from . import accounts, database, demo, events, export, keys, posts, secretkey, service, users, webhooks

MODULES = (service, database, keys, users, posts, accounts, webhooks, events, export, demo, secretkey)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = Parser(prog="postdodo", description="PostDodo: create, schedule and confirm posts.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    # POSTDODO_LOG_LEVEL: WARNING drops the access log's line per request (the default INFO keeps it)
    level = logging.getLevelNamesMapping().get(os.environ.get("POSTDODO_LOG_LEVEL", "INFO").strip().upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up chatter is not news to a user
    try:
        code: int = args.func(args)
    except PostDodoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:  # a server command on the bare install: one line, no traceback
        hint = install_hint(exc, f"`postdodo {args.command}`", "server")
        if hint is None:
            raise
        print(hint, file=sys.stderr)
        return 2
    return code


__all__ = ["build_parser", "main"]
