"""`postdodo events list|get|redeliver`: the workspace's events (what webhooks receive), through the API client."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..models import EVENT_TYPES
from .output import EXIT_OK, command, common_options, emit_json, make_client, show

TYPES = (*EVENT_TYPES, "webhook.test")
_COLUMNS = (
    ("id", lambda e: e.id), ("event", lambda e: e.event),
    ("created", lambda e: f"{e.created_at:%Y-%m-%d %H:%M:%S}"), ("post", lambda e: e.post_id),
    ("platform", lambda e: e.data.get("platform")), ("status", lambda e: e.data.get("status")),
)


def register(commands: Any) -> None:
    """Add the `events` actions."""
    common = common_options()
    parser = commands.add_parser("events", help="list events and send them to webhooks again (over HTTP)")
    sub = parser.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", parents=[common], help="events in the order they happened, oldest first")
    listing.add_argument("--type", choices=TYPES, metavar="TYPE", help=f"only this type: {', '.join(TYPES)}")
    listing.add_argument("--post", metavar="POST_ID", help="only the events of this post")
    listing.add_argument("--limit", type=int, default=50, help="how many events")
    listing.set_defaults(func=cmd_list)
    get = sub.add_parser("get", parents=[common], help="one event, as webhooks receive it (JSON)")
    get.add_argument("event_id", help="evt_... id from `postdodo events list`")
    get.set_defaults(func=cmd_get)
    again = sub.add_parser("redeliver", parents=[common],
                           help="send an event again, same id, to every endpoint subscribed to it now")
    again.add_argument("event_id", help="evt_... id from `postdodo events list`")
    again.add_argument("--endpoint", metavar="WH_ID", help="only to this webhook endpoint")
    again.set_defaults(func=cmd_redeliver)


@command
def cmd_list(args: argparse.Namespace) -> int:
    """Print events oldest first."""
    if args.limit < 1:
        raise ValueError("--limit must be at least 1")
    found = make_client(args).events.list(type=args.type, post_id=args.post, limit=args.limit)
    what = " ".join(filter(None, [args.type, "events"] + ([f"for {args.post}"] if args.post else [])))
    return show(found, args.json, _COLUMNS, empty=f"no {what}")


@command
def cmd_get(args: argparse.Namespace) -> int:
    """Print one event's envelope as JSON (with or without --json: it is what a receiver gets)."""
    emit_json(make_client(args).events.get(args.event_id))
    return EXIT_OK


@command
def cmd_redeliver(args: argparse.Namespace) -> int:
    """Queue the event again for its endpoints."""
    sent = make_client(args).events.redeliver(args.event_id, endpoint_id=args.endpoint)
    if args.json:
        emit_json(sent)
        return EXIT_OK
    if not sent.deliveries:
        print(f"{sent.event_id}: no endpoint is subscribed to it now; nothing was queued")
        return EXIT_OK
    print(f"queued {sent.event_id} again as {len(sent.deliveries)} delivery(ies): {' '.join(sent.deliveries)}")
    print("follow them with: postdodo webhooks deliveries WH_ID", file=sys.stderr)
    return EXIT_OK


__all__ = ["register"]
