"""A confirmed target's thread: its progress record, one item per job, written only by the attempt that owns it.

The record lives in `targets.thread` ({status, items}); while an item is due the confirmed target waits
unleased with `next_attempt_at` set, like a due first comment, and a claim only leases it. `processing_checks`
is set to the attempts so far whenever an item starts, so the retry policy counts that item's attempts alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from .events import emit
from .schema import targets
from .unpublish import finish_follow_up


def _owned(target_id: str, attempt: int) -> Any:
    return update(targets).where(targets.c.id == target_id, targets.c.status == "confirmed",
                                 targets.c.attempts == attempt)


def pending(thread: dict[str, Any] | None) -> bool:
    """Whether a thread still has items to post."""
    return thread is not None and thread.get("status") == "pending"


def thread_due(conn: Connection, target_id: str, attempt: int, now: datetime) -> None:
    """A just-confirmed target's first thread item is due now; its attempts are counted from here."""
    conn.execute(_owned(target_id, attempt).values(next_attempt_at=now, processing_checks=attempt))


def save_thread(conn: Connection, target_id: str, attempt: int, now: datetime, thread: dict[str, Any]) -> bool:
    """Store the thread record mid-attempt (an item's handles, its call start), only while the attempt owns it."""
    return conn.execute(_owned(target_id, attempt).values(thread=thread, updated_at=now)).rowcount == 1


def finish_item(conn: Connection, target_id: str, attempt: int, now: datetime, *, thread: dict[str, Any],
                next_attempt_at: datetime | None, next_item: bool, check_only: bool = False) -> bool:
    """Record an item attempt's outcome and release the lease; `next_item`: the next one counts its own attempts;
    `check_only`: the attempt only checked media processing, which is no try of the item. On a target unpublished
    since the attempt started the outcome is recorded all the same (the delete, due next, needs the item's id)."""
    values: dict[str, Any] = {"thread": thread, "next_attempt_at": next_attempt_at, "lease_until": None,
                              "lease_owner": None, "updated_at": now}
    if next_item:
        values["processing_checks"] = attempt
    elif check_only:
        values["processing_checks"] = targets.c.processing_checks + 1
    if conn.execute(_owned(target_id, attempt).values(**values)).rowcount == 1:
        return True
    return finish_follow_up(conn, target_id, attempt, now, thread=thread)


def thread_event(conn: Connection, target: dict[str, Any], event_type: str, now: datetime, **data: Any) -> None:
    """`post.thread_published` or `post.thread_failed` of one target."""
    emit(conn, target["workspace_id"], event_type, {
        "post_id": target["post_id"], "account_id": target["account_id"], "platform": target["platform"], **data},
        post_id=target["post_id"], now=now)
