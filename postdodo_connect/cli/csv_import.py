"""`postdodo posts import FILE.csv`: one post per row, every row checked (locally and by the API) before any is created.

Columns (docs/cli.md): caption, accounts, scheduled_at, media, media_alt, first_comment, caption_<platform>,
thread_1..thread_n. A file with any bad row creates nothing, and every problem is reported with its line.
"""

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
from ..client._calls import media_with_alt, new_idempotency_key, post_body
from ..content import OPTIONS
from ..errors import InvalidRequestError, PostDodoError
from ..models import Post, Validation
from .output import EXIT_API, EXIT_OK, EXIT_USER, command, emit_json, make_client, plain, print_table

__all__ = ["CSV_COLUMNS", "PLATFORM_CAPTION_COLUMNS", "Progress", "Row", "cmd_import", "read_rows"]

CSV_COLUMNS = ("caption", "accounts", "scheduled_at", "media", "media_alt", "first_comment")
REQUIRED_COLUMNS = ("caption", "accounts")
#: caption_x, caption_bluesky, ...: a caption for that platform's targets instead of `caption`
PLATFORM_CAPTION_COLUMNS = tuple(f"caption_{p}" for p in sorted(OPTIONS))
_THREAD = re.compile(r"thread_([1-9][0-9]?)")  # thread_1 .. thread_99: the thread's items, in order
_SPLIT = re.compile(r"[\s;,]+")
ALT_SEPARATOR = "|"  # alt texts hold spaces and commas, so they are split on a bar


def _known(column: str) -> bool:
    return column in CSV_COLUMNS or column in PLATFORM_CAPTION_COLUMNS or _THREAD.fullmatch(column) is not None


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
    unknown = [h for h in header if not _known(h)]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        what = (f"unknown column(s) {', '.join(unknown)}; " if unknown else "") + (
            f"missing column(s) {', '.join(missing)}; " if missing else "")
        return [], [f"line 1: {what or 'a column is named twice; '}the columns are {', '.join(CSV_COLUMNS)}, "
                    f"caption_<platform> ({', '.join(sorted(OPTIONS))}) and thread_1, thread_2, ..."]
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
    alts = _alts(cells.get("media_alt", ""))
    if len(alts) > len(media):
        row.problems.append(f"media_alt: {len(alts)} alt texts for {len(media)} media URLs (one per media URL, "
                            f"in order, separated by {ALT_SEPARATOR})")
        alts = []
    thread = _thread(cells, row)
    platforms = {name.removeprefix("caption_"): {"caption": text} for name, text in cells.items()
                 if name in PLATFORM_CAPTION_COLUMNS and text}
    try:
        body = post_body(cells["caption"], accounts, cells.get("scheduled_at") or None,
                         media_with_alt(media, alts), platforms=platforms or None,
                         first_comment=cells.get("first_comment") or None)
    except ValueError as exc:
        row.problems.append(str(exc))
        return row
    if thread:
        body["thread"] = [{"caption": text} for text in thread]
    if not row.problems:
        row.body = body
    return row


def _alts(cell: str) -> list[str]:
    """The alt texts of a media_alt cell in media order; an empty place leaves that media item without one."""
    if not cell:
        return []
    alts = [alt.strip() for alt in cell.split(ALT_SEPARATOR)]
    while alts and not alts[-1]:
        alts.pop()
    return alts


def _thread(cells: dict[str, str], row: Row) -> list[str]:
    """The thread items of thread_1..thread_n in order; a gap is a problem (an item would move up silently)."""
    numbered = sorted((int(m.group(1)), text) for name, text in cells.items() if (m := _THREAD.fullmatch(name)))
    items: list[str] = []
    for number, text in numbered:
        if not text:
            continue
        if number != len(items) + 1:
            row.problems.append(f"thread_{number}: thread_{len(items) + 1} is empty (the items go in order)")
            return []
        items.append(text)
    return items


def _validate_remote(client: Client, rows: list[Row], concurrency: int) -> None:
    """Ask the API about every locally good row (POST /v1/posts/validate), in parallel."""
    todo = [r for r in rows if r.body is not None]
    progress = Progress("validating", len(todo))

    def check(row: Row) -> None:
        assert row.body is not None
        try:
            # the row's whole body, so versions, first comment and thread are checked as they will be sent
            answer = Validation.model_validate(client.request("POST", "/v1/posts/validate", json=row.body,
                                                              idempotency_key=new_idempotency_key()))
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
            # exactly the body that was validated (and that the key is derived from)
            post = Post.model_validate(client.request("POST", "/v1/posts", json=row.body, idempotency_key=row.key))
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
