"""The events outbox: written in the transaction of the change that causes it, fanned out to endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from .db import utcnow
from .ids import new_id
from .prepared import Conn, Prepared
from .schema import deliveries, events, posts, webhook_endpoints

# built once: every state change of every target runs it
_SUBSCRIBERS = Prepared(select(webhook_endpoints.c.id, webhook_endpoints.c.events).where(
    webhook_endpoints.c.workspace_id == bindparam("ws"),
    webhook_endpoints.c.status == "enabled",
    webhook_endpoints.c.deleted_at.is_(None),
))
_INSERT_EVENT = Prepared(insert(events), columns=("id", "workspace_id", "type", "post_id", "data", "created_at"))
# A post's events are numbered 1, 2, 3... in `data.sequence`, in the order their transactions commit: the
# post's counter is bumped in place, which locks the row, so two workers finishing two targets of one post
# number one after the other (SQLite has one writer anyway). A counter rather than a count of the stored
# events: retention may purge a post's old events, and a later number must never repeat an earlier one.
_BUMP_SEQUENCE = Prepared(update(posts).where(posts.c.id == bindparam("post_id"))
                          .values(event_seq=posts.c.event_seq + 1).returning(posts.c.event_seq))


def next_sequence(conn: Conn, post_id: str) -> int:
    """The sequence number the post's next event gets; holds the post's row lock until the transaction ends."""
    bumped = _BUMP_SEQUENCE.first(conn, {"post_id": post_id})
    if bumped is None:
        raise LookupError(f"no post {post_id}")
    return int(bumped["event_seq"])


_INSERT_DELIVERY = Prepared(insert(deliveries), columns=(
    "id", "event_id", "endpoint_id", "workspace_id", "status", "attempts", "next_attempt_at", "created_at",
    "updated_at"))


def store_event(conn: Conn, workspace_id: str, event_type: str, data: dict[str, Any], *,
                post_id: str | None = None, now: datetime | None = None, sequence: int | None = None) -> dict[str, Any]:
    """Store one event without fanning it out; an event of a post carries the post's next ``data.sequence``.

    `sequence` is for the writer that already set the post's counter (the post's creation): no bump then.
    """
    if post_id is not None:
        data = {**data, "sequence": sequence if sequence is not None else next_sequence(conn, post_id)}
    row = {"id": new_id("evt"), "workspace_id": workspace_id, "type": event_type, "post_id": post_id,
           "data": data, "created_at": now or utcnow()}
    _INSERT_EVENT.run(conn, row)
    return row


def emit(
    conn: Conn,
    workspace_id: str,
    event_type: str,
    data: dict[str, Any],
    *,
    post_id: str | None = None,
    now: datetime | None = None,
    sequence: int | None = None,
) -> dict[str, Any]:
    """Store one event and a pending delivery for every enabled endpoint subscribed to it."""
    now = now or utcnow()
    row = store_event(conn, workspace_id, event_type, data, post_id=post_id, now=now, sequence=sequence)
    rows = [
        {"id": new_id("dlv"), "event_id": row["id"], "endpoint_id": ep["id"], "workspace_id": workspace_id,
         "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now}
        for ep in _SUBSCRIBERS.rows(conn, {"ws": workspace_id})
        if not ep["events"] or event_type in ep["events"]
    ]
    _INSERT_DELIVERY.run_many(conn, rows)
    return row


def envelope(row: Any) -> dict[str, Any]:
    """The public JSON envelope of a stored event row."""
    from ..models import format_time

    mapping = row if isinstance(row, dict) else row._mapping
    return {"id": mapping["id"], "event": mapping["type"], "created_at": format_time(mapping["created_at"]),
            "data": mapping["data"]}


def list_events(
    conn: Connection, workspace_id: str, *, post_id: str | None = None, event_type: str | None = None,
    after_seq: int = 0, limit: int = 100,
) -> list[dict[str, Any]]:
    """A workspace's event rows in the order they happened (each with its `seq`)."""
    query = select(events).where(events.c.workspace_id == workspace_id, events.c.seq > after_seq)
    if post_id:
        query = query.where(events.c.post_id == post_id)
    if event_type:
        query = query.where(events.c.type == event_type)
    return [dict(r._mapping) for r in conn.execute(query.order_by(events.c.seq).limit(limit))]


def get_event(conn: Connection, workspace_id: str, event_id: str) -> dict[str, Any] | None:
    """One event row of the workspace."""
    row = conn.execute(
        select(events).where(events.c.id == event_id, events.c.workspace_id == workspace_id)
    ).first()
    return dict(row._mapping) if row else None
