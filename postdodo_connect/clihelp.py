"""The --help layout of `postdodo` and `postdodo-receiver`: every option with a default says it (stdlib only)."""

from __future__ import annotations

import argparse

__all__ = ["HelpFormatter", "Parser"]


class HelpFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to options that have a real default and do not already name it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        # flags (False), unset options (None) and texts that already say it would only get noise
        if (default is None or isinstance(default, bool) or default == [] or default is argparse.SUPPRESS
                or "default" in text or not action.option_strings):
            return action.help
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose sub-parsers (made with add_subparsers) use HelpFormatter too."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
