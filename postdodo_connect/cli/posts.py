"""`postdodo posts create|get|list|update|cancel|unpublish|import`: posts through the API client (any PostDodo server)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..client._calls import media_with_alt
from ..client.resources import FINAL_POST_STATUSES
from ..content import OPTIONS
from ..models import Post
from .csv_import import Progress, Row, cmd_import, read_rows
from .output import EXIT_NOT_DONE, EXIT_OK, command, common_options, emit_json, make_client, print_table, show

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
    imp.add_argument("file", type=Path, help="CSV with a header: caption,accounts[,scheduled_at][,media][,media_alt]"
                     "[,first_comment][,caption_<platform>...][,thread_1...] (docs/cli.md)")
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
    parser.add_argument("--platform-caption", action="append", metavar="PLATFORM=TEXT", type=_platform_caption,
                        dest="platform_captions",
                        help='the caption on one platform instead of --caption: x="Short for X" (repeatable)')
    parser.add_argument("--first-comment", metavar="TEXT",
                        help="a comment posted under the post once it is live (where the platform allows it)")
    parser.add_argument("--thread", action="append", metavar="TEXT",
                        help="the caption of a thread item after the first post, in order (repeatable; X, Bluesky, "
                             "Threads, Mastodon)")


def _platform_caption(text: str) -> tuple[str, str]:
    platform, sep, caption = text.partition("=")
    platform = platform.strip().lower()
    if not sep or not platform:
        raise argparse.ArgumentTypeError(f"{text!r} is not PLATFORM=TEXT (for example x=\"Short for X\")")
    if platform not in OPTIONS:
        raise argparse.ArgumentTypeError(f"{platform!r} is not a platform (one of {', '.join(sorted(OPTIONS))})")
    return platform, caption


def _platforms(args: argparse.Namespace) -> dict[str, Any] | None:
    """--platforms with each --platform-caption set as its platform's caption."""
    if not args.platform_captions:
        return args.platforms  # type: ignore[no-any-return]
    versions: dict[str, Any] = {name: dict(v) for name, v in (args.platforms or {}).items()}
    for platform, caption in args.platform_captions:
        version = versions.get(platform)
        versions[platform] = (dict(version) if isinstance(version, dict) else {}) | {"caption": caption}
    return versions


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def _media(args: argparse.Namespace) -> list[Any] | None:
    """--media with its --alt, paired in order (each item typed by its URL, as without --alt)."""
    if args.media is None:
        if args.alt:
            raise ValueError("--alt describes a --media item: give the --media URLs too")
        return None
    if len(args.alt or []) > len(args.media):
        raise ValueError("more --alt than --media")
    return media_with_alt(args.media, args.alt or [])


def show_post(post: Post) -> None:
    """A post for people: one summary line, the caption, a table of targets."""
    when = f"scheduled {post.scheduled_at:%Y-%m-%d %H:%M:%SZ}" if post.scheduled_at else "publish now"
    print(f"{post.id}  {post.status}  ({when}; created {post.created_at:%Y-%m-%d %H:%M:%SZ})")
    caption = post.caption if len(post.caption) <= 200 else post.caption[:197] + "..."
    print(f"caption: {caption}" if caption else "caption: (none)")
    print_table(post.targets, _TARGET_COLUMNS)
    for target in post.targets:
        if (thread := target.thread) is not None:
            failed = next((f"; item {n + 1}: {i.error.code}: {i.error.message}" for n, i in enumerate(thread.items)
                           if i.status == "failed" and i.error), "")
            print(f"thread on {target.platform} ({target.account_id}): {thread.status}, "
                  f"{thread.published} of {thread.total} items{failed}")


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
                               idempotency_key=args.idempotency_key, platforms=_platforms(args),
                               accounts=args.account_versions, first_comment=args.first_comment, thread=args.thread)
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
                                          scheduled_at=args.at, media=_media(args), platforms=_platforms(args),
                                          accounts=args.account_versions, first_comment=args.first_comment,
                                          thread=args.thread,
                                          idempotency_key=args.idempotency_key)
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


__all__ = ["Progress", "Row", "cmd_import", "read_rows", "register", "show_post"]
