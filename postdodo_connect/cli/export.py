"""`postdodo export [--check] [--out DIR]`: render the automation catalogue for Zapier, n8n and Home Assistant."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    """Add `export`."""
    parser = commands.add_parser("export", help="write the generated integration files (integrations/generated)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where to write (default: integrations/generated of this checkout)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 listing out-of-date files")
    parser.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the files, or check that the committed ones are current."""
    from ..automation import export  # here: the other commands need not load the whole catalogue

    out: Path = args.out or export.default_out_dir()
    if args.check:
        stale = export.check(out)
        if stale:
            print(f"out of date in {out} (run `postdodo export`):", file=sys.stderr)
            for name in stale:
                print(f"  {name}", file=sys.stderr)
            return 1
        print(f"{len(export.FILES)} generated files in {out} are up to date")
        return 0
    written = export.write(out)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"{len(export.FILES)} generated files in {out} were already up to date")
    return 0


__all__ = ["cmd_export", "register"]
