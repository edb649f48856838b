"""/v1/events: the workspace's events in the order they happened (the outbox, readable)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from ..errors import NotFoundError
from ..storage import events as store
from .auth import workspace
from .boundary import known_args, limit_param
from .service import service

bp = Blueprint("events", __name__, url_prefix="/v1/events")


def _sequence(value: Any) -> int:
    if type(value) is not int:  # (a posts cursor is a [time, id] list)
        raise TypeError("not an events cursor")
    return value


@bp.get("")
def list_() -> dict[str, Any]:
    """Events oldest first; `cursor` continues after the last one seen, `type` and `post_id` filter."""
    known_args("limit", "cursor", "type", "post_id")
    svc = service()
    after = svc.load_cursor(request.args["cursor"], _sequence) if request.args.get("cursor") else 0
    limit = limit_param(50)
    with svc.db.read() as conn:
        rows = store.list_events(conn, workspace()["id"], post_id=request.args.get("post_id") or None,
                                 event_type=request.args.get("type") or None, after_seq=after, limit=limit + 1)
    page = rows[:limit]
    has_more = len(rows) > limit
    return {"data": [store.envelope(r) for r in page], "has_more": has_more,
            "next_cursor": svc.dump_cursor(page[-1]["seq"]) if page else request.args.get("cursor")}


@bp.get("/<event_id>")
def get(event_id: str) -> dict[str, Any]:
    """One event."""
    with service().db.read() as conn:
        row = store.get_event(conn, workspace()["id"], event_id)
    if row is None:
        raise NotFoundError(f"no event {event_id}", param="id")
    return store.envelope(row)
