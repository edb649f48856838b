"""What the client-side commands share: connection options, exit codes, tables, --json and error reports."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

from pydantic import BaseModel

from ..client import Client, WaitTimeout
from ..errors import (
    APIConnectionError,
    APIError,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PostDodoError,
    UnsupportedMediaTypeError,
)

__all__ = [
    "EXIT_API",
    "EXIT_NOT_DONE",
    "EXIT_OK",
    "EXIT_USER",
    "Column",
    "command",
    "common_options",
    "emit_json",
    "make_client",
    "plain",
    "print_table",
    "report_error",
]

EXIT_OK = 0
#: the input was refused: a local check, or the API's 400/404/409/413/415 answer to what you sent
EXIT_USER = 1
#: no usable answer: connection failure, 401, 429 after retries, 5xx, missing configuration (and argparse usage errors)
EXIT_API = 2
#: --wait ended without the post being fully published (failed, partially published, canceled, timed out)
EXIT_NOT_DONE = 3

_USER_ERRORS = (InvalidRequestError, NotFoundError, ConflictError, PayloadTooLargeError, UnsupportedMediaTypeError)

Column = tuple[str, Callable[[Any], Any]]


def common_options() -> argparse.ArgumentParser:
    """A parent parser with --base-url, --api-key, --timeout and --json for every client command."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--base-url", metavar="URL",
                       help="API root (default: $POSTDODO_BASE_URL, else http://127.0.0.1:8080)")
    group.add_argument("--api-key", metavar="KEY", help="API key (default: $POSTDODO_API_KEY)")
    group.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per-request timeout")
    parent.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    return parent


def make_client(args: argparse.Namespace, **options: Any) -> Client:
    """A client from the command line options (falling back to the environment)."""
    if not (args.api_key or os.environ.get("POSTDODO_API_KEY", "").strip()):
        raise ConfigurationError("no API key: set POSTDODO_API_KEY or use --api-key "
                                 "(`postdodo keys create` makes one)")
    return Client(api_key=args.api_key, base_url=args.base_url, timeout=args.timeout, **options)


def plain(value: Any) -> Any:
    """Models (and lists of them) as JSON-able data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def emit_json(value: Any, stream: TextIO | None = None) -> None:
    """One JSON document on stdout."""
    print(json.dumps(plain(value), ensure_ascii=False), file=stream or sys.stdout)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ",".join(_cell(v) for v in value) or "-"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def print_table(rows: Iterable[Any], columns: Sequence[Column], stream: TextIO | None = None,
                empty: str = "(none)") -> None:
    """Left-aligned columns sized to their content, header in capitals."""
    out = stream or sys.stdout
    cells = [[_cell(get(row)) for _, get in columns] for row in rows]
    if not cells:
        print(empty, file=out)
        return
    widths = [max(len(name), *(len(r[i]) for r in cells)) for i, (name, _) in enumerate(columns)]
    print("  ".join(name.upper().ljust(w) for (name, _), w in zip(columns, widths, strict=True)).rstrip(), file=out)
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


def show(value: Any, as_json: bool, columns: Sequence[Column], *, empty: str = "(none)") -> int:
    """A model or a list of them: one JSON document with --json, else a table; returns EXIT_OK."""
    if as_json:
        emit_json(value)
    else:
        print_table(value if isinstance(value, list) else [value], columns, empty=empty)
    return EXIT_OK


def report_error(exc: Exception, as_json: bool) -> int:
    """Print an error for people (stderr) and, with --json, as the API's error body (stdout); return the exit code."""
    if isinstance(exc, APIError):
        lines = [f"error: {exc.message} (HTTP {exc.status} {exc.code})"]
        lines += [f"  - {d.get('field') or ''}{' [' + d['platform'] + ']' if d.get('platform') else ''}: "
                  f"{d.get('message')}" for d in exc.details]
        if exc.request_id:
            lines.append(f"  request id: {exc.request_id}")
        body: dict[str, Any] = exc.to_body()
        body["error"]["status"] = exc.status
        code = EXIT_USER if isinstance(exc, _USER_ERRORS) else EXIT_API
    elif isinstance(exc, WaitTimeout):
        lines = [f"error: {exc}"]
        body = {"error": {"code": "wait_timeout", "message": str(exc)}, "post": plain(exc.post)}
        code = EXIT_NOT_DONE
    elif isinstance(exc, ValueError):
        lines = [f"error: {exc}"]
        body = {"error": {"code": "invalid_input", "message": str(exc)}}
        code = EXIT_USER
    else:
        lines = [f"error: {exc}"]
        if isinstance(exc, APIConnectionError) and str(exc).endswith(": connection refused"):
            lines[0] += " — is `postdodo serve` running?"
        kind = ("configuration_error" if isinstance(exc, ConfigurationError)
                else "connection_error" if isinstance(exc, APIConnectionError) else "error")
        body = {"error": {"code": kind, "message": str(exc)}}
        code = EXIT_API
    print("\n".join(lines), file=sys.stderr)
    if as_json:
        emit_json(body)
    return code


def command(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a command, turning the errors a user can meet into a report and an exit code."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (PostDodoError, ValueError) as exc:
            return report_error(exc, getattr(args, "json", False))

    return wrapper
