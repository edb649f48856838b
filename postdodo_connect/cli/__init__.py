"""The `postdodo` command: run the service, manage keys (more subcommands join per module)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ..errors import PostDodoError
from . import accounts, database, demo, export, keys, posts, service, webhooks

MODULES = (service, database, keys, posts, accounts, webhooks, export, demo)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(prog="postdodo", description="PostDodo: create, schedule and confirm posts.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
    except PostDodoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


__all__ = ["build_parser", "main"]
