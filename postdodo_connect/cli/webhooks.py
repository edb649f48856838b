"""`postdodo webhooks add|list|rotate|test|deliveries|enable|remove`: webhook endpoints, through the API client."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..models import EVENT_TYPES, WebhookEndpoint
from .output import EXIT_OK, command, common_options, emit_json, make_client, print_table, show

_ENDPOINT_COLUMNS = (
    ("id", lambda w: w.id), ("status", lambda w: w.status), ("events", lambda w: w.events or ["(all)"]),
    ("url", lambda w: w.url), ("description", lambda w: w.description),
    ("disabled because", lambda w: w.disabled_reason),
)


def register(commands: Any) -> None:
    """Add the `webhooks` actions."""
    common = common_options()
    parser = commands.add_parser("webhooks", help="manage webhook endpoints and see deliveries (over HTTP)")
    sub = parser.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", parents=[common], help="register an endpoint; prints its secret once")
    add.add_argument("url", help="https URL that receives the events")
    add.add_argument("--event", action="append", dest="events", choices=EVENT_TYPES, metavar="TYPE",
                     help=f"only this event type (repeatable; default all): {', '.join(EVENT_TYPES)}")
    add.add_argument("--description")
    add.set_defaults(func=cmd_add)
    listing = sub.add_parser("list", parents=[common], help="every endpoint")
    listing.set_defaults(func=cmd_list)
    rotate = sub.add_parser("rotate", parents=[common], help="new secret; the old one signs too for 24 h")
    rotate.add_argument("endpoint_id")
    rotate.add_argument("--expire-now", action="store_true", help="stop the old secret at once")
    rotate.set_defaults(func=cmd_rotate)
    test = sub.add_parser("test", parents=[common], help="send a webhook.test event")
    test.add_argument("endpoint_id")
    test.set_defaults(func=cmd_test)
    deliveries = sub.add_parser("deliveries", parents=[common], help="recent deliveries and their attempts")
    deliveries.add_argument("endpoint_id")
    deliveries.add_argument("--status", choices=("pending", "delivering", "delivered", "failed", "canceled"))
    deliveries.add_argument("--limit", type=int, default=20, help="how many, newest first (default 20)")
    deliveries.set_defaults(func=cmd_deliveries)
    enable = sub.add_parser("enable", parents=[common], help="re-enable a disabled endpoint")
    enable.add_argument("endpoint_id")
    enable.set_defaults(func=cmd_enable)
    remove = sub.add_parser("remove", parents=[common], help="delete an endpoint")
    remove.add_argument("endpoint_id")
    remove.set_defaults(func=cmd_remove)


def _with_secret(endpoint: WebhookEndpoint, as_json: bool) -> None:
    if as_json:
        emit_json(endpoint)
        return
    print_table([endpoint], _ENDPOINT_COLUMNS)
    print(f"\nsecret (shown once, store it now): {endpoint.secret}")


@command
def cmd_add(args: argparse.Namespace) -> int:
    """Register an endpoint."""
    endpoint = make_client(args).webhooks.create(args.url, events=args.events, description=args.description)
    _with_secret(endpoint, args.json)
    return EXIT_OK


@command
def cmd_list(args: argparse.Namespace) -> int:
    """Print every endpoint."""
    return show(make_client(args).webhooks.list(), args.json, _ENDPOINT_COLUMNS, empty="no webhook endpoints")


@command
def cmd_rotate(args: argparse.Namespace) -> int:
    """Rotate an endpoint's secret."""
    _with_secret(make_client(args).webhooks.rotate(args.endpoint_id, expire_now=args.expire_now), args.json)
    return EXIT_OK


@command
def cmd_test(args: argparse.Namespace) -> int:
    """Queue a webhook.test delivery."""
    sent = make_client(args).webhooks.test(args.endpoint_id)
    if args.json:
        emit_json(sent)
    else:
        print(f"queued {sent.event.event} event {sent.event.id} as delivery {sent.delivery_id}")
        print(f"see it with: postdodo webhooks deliveries {args.endpoint_id}", file=sys.stderr)
    return EXIT_OK


@command
def cmd_deliveries(args: argparse.Namespace) -> int:
    """Print the endpoint's recent deliveries."""
    if args.limit < 1:
        raise ValueError("--limit must be at least 1")
    deliveries = make_client(args).webhooks.deliveries(args.endpoint_id, status=args.status, limit=args.limit)
    return show(deliveries, args.json, (
        ("id", lambda d: d.id), ("event", lambda d: d.event), ("event id", lambda d: d.event_id),
        ("status", lambda d: d.status), ("attempts", lambda d: d.attempts),
        ("last http", lambda d: d.last_status_code),
        ("next attempt", lambda d: d.next_attempt_at and f"{d.next_attempt_at:%Y-%m-%d %H:%M:%S}"),
    ), empty=f"no {args.status} deliveries" if args.status else "no deliveries yet")


@command
def cmd_enable(args: argparse.Namespace) -> int:
    """Re-enable an endpoint."""
    return show(make_client(args).webhooks.enable(args.endpoint_id), args.json, _ENDPOINT_COLUMNS)


@command
def cmd_remove(args: argparse.Namespace) -> int:
    """Delete an endpoint."""
    endpoint = make_client(args).webhooks.delete(args.endpoint_id)
    if args.json:
        emit_json(endpoint)
    else:
        print(f"removed {endpoint.id} ({endpoint.url})")
    return EXIT_OK


__all__ = ["register"]
