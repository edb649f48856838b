"""`postdodo posts import`: one post per CSV row, every row validated (locally, then by the server) first."""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..client import Client
from ..client.resources import post_body
from ..errors import InvalidRequestError, PostDodoError
from .output import EXIT_API, EXIT_OK, EXIT_USER, command, emit_json, make_client, plain, print_table

CSV_COLUMNS = ("caption", "accounts", "scheduled_at", "media")
REQUIRED_COLUMNS = ("caption", "accounts")
_SPLIT = re.compile(r"[\s;,]+")


@dataclass
class Row:
    """One CSV record: where it starts, the post it asks for, and what is wrong with it."""

    line: int
    body: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Idempotency-Key from the row's content: the same row imported twice is one post."""
        canonical = json.dumps(self.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "csv-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:48]


class Progress:
    """A one-line progress bar on a terminal; a line per tenth elsewhere (logs stay short)."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self._shown = label, total, 0, -1
        self.tty = sys.stderr.isatty()

    def step(self) -> None:
        self.done += 1
        if self.tty:
            filled = 30 * self.done // max(self.total, 1)
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
            if self.done == self.total:
                sys.stderr.write("\n")
        elif (tenth := 10 * self.done // max(self.total, 1)) != self._shown:
            self._shown = tenth
            print(f"{self.label}: {self.done}/{self.total}", file=sys.stderr)
        sys.stderr.flush()


def read_rows(path: Path) -> tuple[list[Row], list[str]]:
    """Parse and check the CSV locally: the rows, and problems of the file itself."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"cannot read {path}: {exc}"]
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], ["line 1: the file is empty; the first line must name the columns"]
    except csv.Error as exc:
        return [], [f"line 1: {exc}"]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        what = (f"unknown column(s) {', '.join(unknown)}; " if unknown else "") + (
            f"missing column(s) {', '.join(missing)}; " if missing else "")
        return [], [f"line 1: {what or 'a column is named twice; '}the columns are {', '.join(CSV_COLUMNS)}"]
    rows: list[Row] = []
    end = 1
    while True:
        start = end + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            return rows, [f"line {start}: {exc}"]
        end = reader.line_num
        if not any(cell.strip() for cell in record):
            continue  # blank lines are not rows
        rows.append(_check_row(start, header, record))
    if not rows:
        return [], ["the file has a header but no rows"]
    return rows, []


def _check_row(line: int, header: list[str], record: list[str]) -> Row:
    row = Row(line)
    if len(record) != len(header):
        row.problems.append(f"has {len(record)} fields but the header has {len(header)}")
        return row
    cells = {name: value.strip() for name, value in zip(header, record, strict=True)}
    accounts = [a for a in _SPLIT.split(cells["accounts"]) if a]
    media = [m for m in _SPLIT.split(cells.get("media", "")) if m]
    if not accounts:
        row.problems.append("accounts: no account id")
    row.problems += [f"accounts: {a!r} is not an account id (acct_...)" for a in accounts if not a.startswith("acct_")]
    row.problems += [f"media: {m!r} is not an http(s) URL" for m in media if not m.lower().startswith(("http://",
                                                                                                          "https://"))]
    if not cells["caption"] and not media:
        row.problems.append("caption: a post needs a caption or media")
    try:
        body = post_body(cells["caption"], accounts, cells.get("scheduled_at") or None, media)
    except ValueError as exc:
        row.problems.append(str(exc))
        return row
    if not row.problems:
        row.body = body
    return row


def _validate_remote(client: Client, rows: list[Row], concurrency: int) -> None:
    """Ask the API about every locally good row (POST /v1/posts/validate), in parallel."""
    todo = [r for r in rows if r.body is not None]
    progress = Progress("validating", len(todo))

    def check(row: Row) -> None:
        assert row.body is not None
        try:
            answer = client.posts.validate(row.body["caption"], row.body["account_ids"],
                                           row.body.get("scheduled_at"), row.body.get("media"))
            details = answer.details
        except InvalidRequestError as exc:  # a body the API cannot even read (say, a caption over its limit)
            details = exc.details or [{"field": exc.param or "row", "message": exc.message}]
        for detail in details:
            where = detail.get("field", "")
            if detail.get("platform"):
                where += f" [{detail['platform']}]"
            row.problems.append(f"{where}: {detail.get('message')}")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(check, todo):
            progress.step()


def _create_all(client: Client, rows: list[Row], concurrency: int) -> list[dict[str, Any]]:
    progress = Progress("creating", len(rows))

    def create(row: Row) -> dict[str, Any]:
        assert row.body is not None
        try:
            post = client.posts.create(row.body["caption"], row.body["account_ids"], row.body.get("scheduled_at"),
                                       row.body.get("media"), idempotency_key=row.key)
        except PostDodoError as exc:
            return {"line": row.line, "post_id": None, "status": None, "result": "failed", "error": str(exc)}
        info = client.last_response  # per thread, so it is this call's answer
        result = "existing" if info is not None and info.replayed else "created"
        if result == "existing":
            # a replay answers what the first import was told; the post has moved on since
            try:
                post = client.posts.get(post.id)
            except PostDodoError:
                pass  # the replayed answer is still true about the post's id
        return {"line": row.line, "post_id": post.id, "status": post.status, "result": result,
                "accounts": len(post.targets), "scheduled_at": plain(post).get("scheduled_at")}

    results = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for outcome in pool.map(create, rows):
            results.append(outcome)
            progress.step()
    return results


@command
def cmd_import(args: argparse.Namespace) -> int:
    """Validate every row (locally and with the API), report all problems, then create one post per row."""
    if not 1 <= args.concurrency <= 10:  # requests keeps 10 connections per host
        raise ValueError("--concurrency must be from 1 to 10")
    rows, file_problems = read_rows(args.file)
    # more retries than usual: a big file may meet the server's rate limit, and every call is repeat-safe
    client = None if file_problems else make_client(args, max_retries=8)
    if client is not None:
        seen: dict[str, int] = {}
        for row in rows:
            if row.body is not None and (first := seen.setdefault(row.key, row.line)) != row.line:
                row.problems.append(f"repeats line {first} (one post per distinct row)")
        _validate_remote(client, rows, args.concurrency)
    problems = file_problems + [f"line {r.line}: {p}" for r in rows for p in r.problems]
    if problems:
        print(f"{args.file}: {len(problems)} problem(s); nothing was created", file=sys.stderr)
        print("\n".join(problems), file=sys.stderr)
        if args.json:
            emit_json({"valid": False, "problems": problems, "created": 0})
        return EXIT_USER
    if args.dry_run:
        print(f"{args.file}: all {len(rows)} rows are valid (dry run: nothing created)", file=sys.stderr)
        if args.json:
            emit_json({"valid": True, "rows": len(rows), "created": 0})
        return EXIT_OK
    assert client is not None
    results = _create_all(client, rows, args.concurrency)
    counts = {k: sum(r["result"] == k for r in results) for k in ("created", "existing", "failed")}
    if args.json:
        emit_json({"valid": True, **counts, "rows": results})
    else:
        print_table(results, [(k, (lambda r, k=k: r.get(k))) for k in ("line", "post_id", "status", "result")]
                    + [("scheduled_at / error", lambda r: r.get("error") or r.get("scheduled_at"))])
        print(f"{len(rows)} rows: {counts['created']} created, {counts['existing']} already existed, "
              f"{counts['failed']} failed")
    return EXIT_API if counts["failed"] else EXIT_OK


__all__ = ["Progress", "Row", "cmd_import", "read_rows"]
