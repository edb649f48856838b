"""`postdodo posts create|get|list|update|cancel|unpublish|import`: posts through the API client (any PostDodo server)."""

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
from ..client.resources import FINAL_POST_STATUSES, post_body
from ..errors import InvalidRequestError, PostDodoError
from ..models import Post
from .output import (
    EXIT_API,
    EXIT_NOT_DONE,
    EXIT_OK,
    EXIT_USER,
    command,
    common_options,
    emit_json,
    make_client,
    plain,
    print_table,
    show,
)

CSV_COLUMNS = ("caption", "accounts", "scheduled_at", "media")
REQUIRED_COLUMNS = ("caption", "accounts")
_SPLIT = re.compile(r"[\s;,]+")
_TARGET_COLUMNS = (
    ("account", lambda t: t.account_id), ("platform", lambda t: t.platform), ("status", lambda t: t.status),
    ("attempts", lambda t: t.attempts),
    ("permalink / error", lambda t: t.permalink or (f"{t.error.code}: {t.error.message}" if t.error else None)),
)


def register(commands: Any) -> None:
    """Add `posts` and its actions."""
    common = common_options()
    parser = commands.add_parser("posts", help="create, inspect, list, cancel, unpublish and import posts (over HTTP)")
    sub = parser.add_subparsers(dest="posts_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", parents=[common], help="create a post, now or at a time")
    create.add_argument("--caption", required=True, help="the text of the post")
    create.add_argument("--account", action="append", required=True, metavar="ACCT_ID", dest="accounts",
                        help="an account to post to (repeat for several)")
    create.add_argument("--at", metavar="ISO_TIME", help="publish at this time (with an offset: 2030-01-31T09:00Z)")
    create.add_argument("--media", action="append", metavar="URL", help="an image or video URL (repeatable)")
    create.add_argument("--idempotency-key", metavar="KEY", help="repeat-safe key (default: a fresh one)")
    _content_options(create)
    create.add_argument("--wait", action="store_true", help="wait until every target is final")
    create.add_argument("--wait-timeout", type=float, default=120.0, metavar="SECONDS",
                        help="with --wait: how long to wait")
    create.set_defaults(func=cmd_create)
    get = sub.add_parser("get", parents=[common], help="show one post and its targets")
    get.add_argument("post_id")
    get.set_defaults(func=cmd_get)
    listing = sub.add_parser("list", parents=[common], help="list posts, newest first")
    listing.add_argument("--status", choices=sorted(FINAL_POST_STATUSES | {"scheduled", "publishing", "unpublishing"}))
    listing.add_argument("--account", metavar="ACCT_ID", help="only posts to this account")
    listing.add_argument("--limit", type=int, default=20, help="how many posts (default 20)")
    listing.set_defaults(func=cmd_list)
    upd = sub.add_parser("update", parents=[common], help="edit a post before any target starts publishing")
    upd.add_argument("post_id")
    upd.add_argument("--caption", help="the new text of the post")
    upd.add_argument("--account", action="append", metavar="ACCT_ID", dest="accounts",
                     help="replace the accounts (repeat for several)")
    upd.add_argument("--at", metavar="ISO_TIME", help="the new time (with an offset: 2030-01-31T09:00Z)")
    upd.add_argument("--media", action="append", metavar="URL", help="replace the media (repeatable)")
    upd.add_argument("--idempotency-key", metavar="KEY", help="repeat-safe key (default: a fresh one)")
    _content_options(upd)
    upd.set_defaults(func=cmd_update)
    cancel = sub.add_parser("cancel", parents=[common], help="cancel the targets that have not started")
    cancel.add_argument("post_id")
    cancel.set_defaults(func=cmd_cancel)
    unpublish = sub.add_parser("unpublish", parents=[common],
                               help="delete a published post from the platforms that allow it")
    unpublish.add_argument("post_id")
    unpublish.add_argument("--wait", action="store_true", help="wait until every delete has ended")
    unpublish.add_argument("--wait-timeout", type=float, default=120.0, metavar="SECONDS",
                           help="with --wait: how long to wait")
    unpublish.set_defaults(func=cmd_unpublish)
    imp = sub.add_parser("import", parents=[common], help="create one post per CSV row, all rows validated first")
    imp.add_argument("file", type=Path, help="CSV with a header: caption,accounts[,scheduled_at][,media]")
    imp.add_argument("--dry-run", action="store_true", help="validate every row, create nothing")
    imp.add_argument("--concurrency", type=int, default=4, help="parallel requests (default 4)")
    imp.set_defaults(func=cmd_import)


def _content_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alt", action="append", metavar="TEXT",
                        help="alt text of the --media item in the same place (repeatable)")
    parser.add_argument("--platforms", metavar="JSON", type=_json_object,
                        help='versions per platform: \'{"x": {"caption": "...", "options": {...}}}\'')
    parser.add_argument("--account-versions", metavar="JSON", type=_json_object,
                        help='versions per account: \'{"acct_...": {"caption": "..."}}\'')


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _media(args: argparse.Namespace) -> list[Any] | None:
    """--media with its --alt, paired in order."""
    if args.media is None:
        return None
    alts = args.alt or []
    if len(alts) > len(args.media):
        raise ValueError("more --alt than --media")
    return [{"url": url, **({"alt": alts[i]} if i < len(alts) else {})} for i, url in enumerate(args.media)]


def show_post(post: Post) -> None:
    """A post for people: one summary line, the caption, a table of targets."""
    when = f"scheduled {post.scheduled_at:%Y-%m-%d %H:%M:%SZ}" if post.scheduled_at else "publish now"
    print(f"{post.id}  {post.status}  ({when}; created {post.created_at:%Y-%m-%d %H:%M:%SZ})")
    caption = post.caption if len(post.caption) <= 200 else post.caption[:197] + "..."
    print(f"caption: {caption}" if caption else "caption: (none)")
    print_table(post.targets, _TARGET_COLUMNS)


def _show(post: Post, as_json: bool) -> None:
    if as_json:
        emit_json(post)
    else:
        show_post(post)


@command
def cmd_create(args: argparse.Namespace) -> int:
    """Create a post; with --wait, exit 3 unless it ends published."""
    client = make_client(args)
    post = client.posts.create(args.caption, args.accounts, scheduled_at=args.at, media=_media(args),
                               idempotency_key=args.idempotency_key, platforms=args.platforms,
                               accounts=args.account_versions)
    if args.wait:
        if not args.json:
            print(f"created {post.id}; waiting for its targets...", file=sys.stderr)
        post = client.posts.wait(post.id, until="final", timeout=args.wait_timeout, interval=0.5)
    _show(post, args.json)
    return EXIT_NOT_DONE if args.wait and post.status != "published" else EXIT_OK


@command
def cmd_get(args: argparse.Namespace) -> int:
    """Show one post."""
    post = make_client(args).posts.get(args.post_id)
    _show(post, args.json)
    return EXIT_OK


@command
def cmd_list(args: argparse.Namespace) -> int:
    """List posts newest first."""
    if args.limit < 1:
        raise ValueError("--limit must be at least 1")
    posts = list(make_client(args).posts.list(status=args.status, account_id=args.account, limit=args.limit))
    return show(posts, args.json, (
        ("id", lambda p: p.id), ("status", lambda p: p.status),
        ("scheduled", lambda p: p.scheduled_at and f"{p.scheduled_at:%Y-%m-%d %H:%M}"),
        ("created", lambda p: f"{p.created_at:%Y-%m-%d %H:%M}"),
        ("targets", lambda p: " ".join(f"{t.platform}:{t.status}" for t in p.targets)),
        ("caption", lambda p: p.caption[:40]),
    ), empty="no posts")


@command
def cmd_update(args: argparse.Namespace) -> int:
    """Edit a post; only the options given change."""
    post = make_client(args).posts.update(args.post_id, caption=args.caption, account_ids=args.accounts,
                                          scheduled_at=args.at, media=_media(args), platforms=args.platforms,
                                          accounts=args.account_versions, idempotency_key=args.idempotency_key)
    _show(post, args.json)
    return EXIT_OK


@command
def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel a post's waiting targets."""
    post = make_client(args).posts.cancel(args.post_id)
    _show(post, args.json)
    return EXIT_OK


@command
def cmd_unpublish(args: argparse.Namespace) -> int:
    """Queue the deletes; with --wait, exit 3 unless the post ends unpublished everywhere."""
    client = make_client(args)
    plan = client.posts.unpublish(args.post_id)
    if not args.wait:
        if args.json:
            emit_json(plan)
        else:
            print(f"{plan.post.id}  {plan.post.status}")
            print_table(plan.targets, _PLAN_COLUMNS)
        return EXIT_OK
    if not args.json:
        print(f"unpublishing {plan.post.id}; waiting for the platforms...", file=sys.stderr)
    post = client.posts.wait(plan.post.id, until="final", timeout=args.wait_timeout, interval=0.5)
    _show(post, args.json)
    return EXIT_OK if post.status == "unpublished" else EXIT_NOT_DONE


_PLAN_COLUMNS = (
    ("account", lambda s: s.account_id), ("platform", lambda s: s.platform), ("action", lambda s: s.action),
    ("error", lambda s: f"{s.error.code}: {s.error.message}" if s.error else None),
)


# -- CSV import ---------------------------------------------------------------------------------------------


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


__all__ = ["Progress", "Row", "cmd_import", "read_rows", "register", "show_post"]
