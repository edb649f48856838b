"""Follow-up work on published targets: unpublish (mark `unpublishing`) and first comments; claims and outcomes.

An `unpublishing` target, or a `confirmed` one whose first comment is due, waits unleased with
`next_attempt_at` set, like a `retrying` one; a claim only leases it (the status stays). `processing_checks` is
set to the attempts at request time, so the retry policy counts the delete attempts alone (attempts -
processing_checks), as it does for processing checks.

An unpublish asked while a follow-up attempt (thread item, first comment) holds the lease never takes it: the
target turns `unpublishing` with the lease kept, the in-flight attempt records its outcome (the item's or
comment's id) on the `unpublishing` row and releases it due now, and only then is the delete claimed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from .events import emit
from .posts import get_post, refresh_status
from .schema import posts, targets

UNPUBLISH_UNSUPPORTED = "unpublish_unsupported"
FOLLOW_UP = ("unpublishing", "confirmed")  # a confirmed target has `next_attempt_at` only while its comment is due
#: confirmed targets with a follow-up due, and unpublishes, that no attempt holds
FOLLOW_UP_WAITING = and_(targets.c.status.in_(FOLLOW_UP), targets.c.lease_until.is_(None))


def request_unpublish(conn: Connection, workspace_id: str, post_id: str, now: datetime,
                      can_delete: Callable[[str], bool]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Mark each confirmed target the platform can delete `unpublishing`; returns (post, per-target plan)."""
    found = conn.execute(select(posts.c.id).where(posts.c.id == post_id, posts.c.workspace_id == workspace_id)).first()
    if found is None:
        return None, []
    plan: list[dict[str, Any]] = []
    rows = conn.execute(select(targets.c.id, targets.c.account_id, targets.c.platform, targets.c.status,
                               targets.c.platform_post_id).where(targets.c.post_id == post_id)
                        .order_by(targets.c.position)).all()
    for row in rows:
        entry: dict[str, Any] = {"account_id": row.account_id, "platform": row.platform}
        if row.status in ("unpublishing", "unpublished"):
            plan.append(entry | {"action": row.status})
        elif row.status != "confirmed" or not row.platform_post_id:
            plan.append(entry | {"action": "not_published"})
        elif not can_delete(row.platform):
            error = {"code": UNPUBLISH_UNSUPPORTED, "retryable": False, "platform_error": None,
                     "message": f"{row.platform} offers no way to delete a post through its API; remove it by hand"}
            conn.execute(update(targets).where(targets.c.id == row.id, targets.c.status == "confirmed")
                         .values(error=error, updated_at=now))
            plan.append(entry | {"action": "unsupported", "error": error})
        else:
            # conditional on `confirmed`: a concurrent request marks it once. The lease stays: a follow-up attempt
            # holding it may have its platform call in flight, and records its outcome before the delete is claimed
            marked = conn.execute(
                update(targets).where(targets.c.id == row.id, targets.c.status == "confirmed")
                .values(status="unpublishing", next_attempt_at=now, error=None,
                        processing_checks=targets.c.attempts, updated_at=now)).rowcount
            plan.append(entry | {"action": "unpublishing" if marked else "not_published"})
    if any(p["action"] == "unpublishing" for p in plan):
        refresh_status(conn, post_id, now)
    return get_post(conn, workspace_id, post_id), plan


def any_due(conn: Connection, now: datetime) -> bool:
    """Whether an unpublish or a first comment is due."""
    due = select(targets.c.id).where(FOLLOW_UP_WAITING, targets.c.next_attempt_at <= now).limit(1)
    return conn.execute(due).first() is not None


def finish_unpublish(conn: Connection, target_id: str, attempt: int, now: datetime, *, status: str,
                     error: dict[str, Any] | None, next_attempt_at: datetime | None = None,
                     thread: dict[str, Any] | None = None, first_comment: dict[str, Any] | None = None) -> bool:
    """Record a delete attempt's outcome (and its thread items' and comment's), only while this attempt owns
    the target."""
    values: dict[str, Any] = {name: value for name, value in (("thread", thread), ("first_comment", first_comment))
                              if value is not None}
    return conn.execute(
        update(targets).where(targets.c.id == target_id, targets.c.status == "unpublishing",
                              targets.c.attempts == attempt)
        .values(status=status, error=error, next_attempt_at=next_attempt_at, lease_until=None, lease_owner=None,
                updated_at=now, **values)
    ).rowcount == 1


def take_back_unpublishes(conn: Connection, now: datetime, *, owners: Sequence[str] = ()) -> int:
    """Unpublishes and follow-ups whose worker died wait again, due now (a delete is safe to repeat; a comment or
    thread item whose call may have started is settled by its next attempt before anything is sent again)."""
    gone = or_(targets.c.lease_until < now, targets.c.lease_owner.in_(owners)) if owners else targets.c.lease_until < now
    return conn.execute(
        update(targets).where(targets.c.status.in_(FOLLOW_UP), targets.c.lease_until.is_not(None), gone)
        .values(lease_until=None, lease_owner=None, next_attempt_at=now, updated_at=now)
    ).rowcount


def unpublished_event(conn: Connection, target: dict[str, Any], now: datetime, **data: Any) -> None:
    """The `post.unpublished` event of one target."""
    emit(conn, target["workspace_id"], "post.unpublished", {
        "post_id": target["post_id"], "account_id": target["account_id"], "platform": target["platform"], **data},
        post_id=target["post_id"], now=now)


def comment_due(conn: Connection, target_id: str, attempt: int, now: datetime) -> None:
    """A just-confirmed target's first comment is due now; delete attempts are counted from here."""
    conn.execute(update(targets).where(targets.c.id == target_id, targets.c.status == "confirmed",
                                       targets.c.attempts == attempt)
                 .values(next_attempt_at=now, processing_checks=attempt))


def save_comment(conn: Connection, target_id: str, attempt: int, now: datetime, first_comment: dict[str, Any]) -> bool:
    """Store a comment attempt's call start before the call, only while it owns the (still confirmed) target."""
    return conn.execute(
        update(targets).where(targets.c.id == target_id, targets.c.status == "confirmed",
                              targets.c.attempts == attempt)
        .values(first_comment=first_comment, updated_at=now)
    ).rowcount == 1


def finish_comment(conn: Connection, target_id: str, attempt: int, now: datetime, *,
                   first_comment: dict[str, Any] | None,
                   next_attempt_at: datetime | None = None) -> bool:
    """Record a comment attempt's outcome, only while this attempt still owns the target (confirmed, or
    `unpublishing` since it started: then the delete is due next)."""
    if conn.execute(
        update(targets).where(targets.c.id == target_id, targets.c.status == "confirmed",
                              targets.c.attempts == attempt)
        .values(first_comment=first_comment, next_attempt_at=next_attempt_at, lease_until=None, lease_owner=None,
                updated_at=now)
    ).rowcount == 1:
        return True
    return finish_follow_up(conn, target_id, attempt, now, first_comment=first_comment)


def finish_follow_up(conn: Connection, target_id: str, attempt: int, now: datetime, **values: Any) -> bool:
    """A follow-up attempt that ends on a target unpublished meanwhile: record `values` (what it made) and
    release the lease with the delete due now; False unless this attempt still holds it."""
    return conn.execute(
        update(targets).where(targets.c.id == target_id, targets.c.status == "unpublishing",
                              targets.c.attempts == attempt, targets.c.lease_until.is_not(None))
        .values(next_attempt_at=now, lease_until=None, lease_owner=None, updated_at=now, **values)
    ).rowcount == 1
