"""Posts and their targets: create, read, list, cancel, and the post status that follows the targets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from ..models import format_time
from .events import emit
from .ids import new_id
from .prepared import Conn, Prepared
from .schema import posts, targets

FINAL = frozenset({"confirmed", "failed", "canceled", "unpublished"})
CANCELABLE = ("scheduled", "retrying")
TARGET_FIELDS = ("account_id", "platform", "status", "phase", "permalink", "platform_post_id", "attempts",
                 "next_attempt_at", "error", "content", "first_comment", "thread")
#: read to work out the publish tries a target shows as `attempts` (see `publish_tries`), then dropped
_TRIES_FIELDS = ("processing_checks", "tries", "lease_until")
#: statuses after a publish confirmed: follow-ups and deletes have counted in `attempts` since
_CONFIRMED = frozenset({"confirmed", "unpublishing", "unpublished"})


#: when a post goes out: its schedule, or its creation when it was published at once
post_time = func.coalesce(posts.c.scheduled_at, posts.c.created_at)

_POST_COLUMNS = ("id", "workspace_id", "status", "caption", "media", "scheduled_at", "created_at", "updated_at",
                 "event_seq", "versions")
_TARGET_COLUMNS = ("id", "post_id", "position", "workspace_id", "account_id", "platform", "status", "attempts",
                   "next_attempt_at", "updated_at", "content", "first_comment", "thread")
_INSERT_POST = Prepared(insert(posts), columns=_POST_COLUMNS)
_INSERT_TARGET = Prepared(insert(targets), columns=_TARGET_COLUMNS)


def create_post(
    conn: Conn,
    workspace_id: str,
    *,
    caption: str,
    media: list[dict[str, str]],
    scheduled_at: datetime | None,
    accounts: list[dict[str, Any]],
    now: datetime,
    versions: dict[str, Any] | None = None,
    contents: Sequence[dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """Insert a post with one target per account (`contents[i]`: what target i publishes, None: the post's own
    caption and media); due now when `scheduled_at` is None."""
    post_id = new_id("post")
    status = "scheduled" if scheduled_at else "publishing"
    _INSERT_POST.run(conn, {
        "id": post_id, "workspace_id": workspace_id, "status": status, "caption": caption, "media": media,
        "scheduled_at": scheduled_at, "created_at": now, "updated_at": now,
        "event_seq": 1 if scheduled_at else 0,  # post.scheduled below is its first event: no bump needed
        "versions": versions,
    })
    rows = [
        {"id": new_id("tgt"), "post_id": post_id, "position": i, "workspace_id": workspace_id,
         "account_id": acct["id"], "platform": acct["platform"], "status": "scheduled", "attempts": 0,
         "next_attempt_at": scheduled_at or now, "updated_at": now, "content": contents[i] if contents else None,
         # the comment posted under the confirmed post: its own status, retried on its own
         "first_comment": _first_comment(contents[i] if contents else None),
         "thread": _thread(contents[i] if contents else None)}
        for i, acct in enumerate(accounts)
    ]
    _INSERT_TARGET.run_many(conn, rows)
    post = {"id": post_id, "workspace_id": workspace_id, "status": status, "caption": caption, "media": media,
            "scheduled_at": scheduled_at, "created_at": now, "updated_at": now, "versions": versions,
            "targets": [_target(r) for r in rows]}
    if scheduled_at:
        emit(conn, workspace_id, "post.scheduled", {
            "post_id": post_id, "status": "scheduled", "scheduled_at": format_time(scheduled_at),
            "targets": [{"account_id": r["account_id"], "platform": r["platform"]} for r in rows],
        }, post_id=post_id, now=now, sequence=1)
    return post


def publish_tries(row: Mapping[str, Any]) -> int:
    """How many times a target was tried: `attempts` also counts its processing checks (no try of their own) and,
    once confirmed, its first comment's, thread items' and deletes' attempts, which are the confirmed post's."""
    attempts = row.get("attempts") or 0
    if row.get("status") in _CONFIRMED:
        # a target confirmed before tries were kept shows its attempts, as it always did
        tries: int | None = row.get("tries")
        return tries if tries is not None else attempts
    # the retry policy's count takes the try that got "still processing" for a check, and the attempt that ends
    # the processing for the try: between checks (nothing leased) that try is still to be counted
    waiting_check = row.get("status") == "publishing" and row.get("phase") == "processing" and row.get("lease_until") is None
    return max(attempts - (row.get("processing_checks") or 0) + (1 if waiting_check else 0), 0)


def _target(row: Any) -> dict[str, Any]:
    mapping = row if isinstance(row, dict) else row._mapping
    target = {name: mapping.get(name) for name in TARGET_FIELDS}
    target["attempts"] = publish_tries(mapping)
    if target["status"] != "publishing":
        target["phase"] = None  # a phase only refines `publishing`
    if target["status"] not in ("scheduled", "retrying") and target["phase"] != "processing":
        target["next_attempt_at"] = None  # only meaningful while waiting (for a processing target: the next check)
    return target


def _attach_targets(conn: Connection, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not found:
        return found
    by_post: dict[str, list[dict[str, Any]]] = {p["id"]: [] for p in found}
    rows = conn.execute(
        select(targets).where(targets.c.post_id.in_(list(by_post))).order_by(targets.c.post_id, targets.c.position)
    )
    for row in rows:
        by_post[row.post_id].append(_target(row))
    for post in found:
        post["targets"] = by_post[post["id"]]
    return found


# built once: reading one post is the hottest query after authentication
_GET_POST = Prepared(select(posts).where(posts.c.id == bindparam("post_id"), posts.c.workspace_id == bindparam("ws")))
_POST_TARGETS = Prepared(select(*(targets.c[name] for name in TARGET_FIELDS + _TRIES_FIELDS))
                         .where(targets.c.post_id == bindparam("post_id")).order_by(targets.c.position))


def get_post(conn: Conn, workspace_id: str, post_id: str) -> dict[str, Any] | None:
    """One post of the workspace, with its targets."""
    post = _GET_POST.first(conn, {"post_id": post_id, "ws": workspace_id})
    if post is None:
        return None
    post["targets"] = [_target(t) for t in _POST_TARGETS.rows(conn, {"post_id": post_id})]
    return post


def list_posts(
    conn: Connection,
    workspace_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
    status: str | None = None,
    account_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Newest first, keyset-paged after (created_at, id); returns (posts, has_more).

    `since`/`until` bound when a post goes out (`post_time`), `until` excluded.
    """
    query = select(posts).where(posts.c.workspace_id == workspace_id)
    if status:
        query = query.where(posts.c.status == status)
    if account_id:
        query = query.where(posts.c.id.in_(select(targets.c.post_id).where(targets.c.account_id == account_id)))
    if since:
        query = query.where(post_time >= since)
    if until:
        query = query.where(post_time < until)
    if after:
        created, last_id = after
        query = query.where(or_(posts.c.created_at < created, and_(posts.c.created_at == created, posts.c.id < last_id)))
    rows = conn.execute(query.order_by(posts.c.created_at.desc(), posts.c.id.desc()).limit(limit + 1)).all()
    found = [dict(r._mapping) for r in rows[:limit]]
    return _attach_targets(conn, found), len(rows) > limit


def posts_between(conn: Connection, workspace_id: str, start: datetime, end: datetime, *,
                  limit: int = 500) -> list[dict[str, Any]]:
    """Posts going out in [start, end) (canceled ones left out), earliest first, with their targets: a calendar."""
    rows = conn.execute(
        select(posts).where(posts.c.workspace_id == workspace_id, posts.c.status != "canceled",
                            post_time >= start, post_time < end)
        .order_by(post_time, posts.c.id).limit(limit)
    ).all()
    return _attach_targets(conn, [dict(r._mapping) for r in rows])


def cancel_post(conn: Connection, workspace_id: str, post_id: str, now: datetime) -> tuple[dict[str, Any] | None, int]:
    """Cancel every target still waiting; returns (post, how many were canceled)."""
    row = conn.execute(
        select(posts.c.id).where(posts.c.id == post_id, posts.c.workspace_id == workspace_id)
    ).first()
    if row is None:
        return None, 0
    # conditional on status: a claim that already moved a target to `publishing` wins, and vice versa
    canceled = conn.execute(
        update(targets).where(targets.c.post_id == post_id, targets.c.status.in_(CANCELABLE))
        .values(status="canceled", lease_until=None, updated_at=now)
        .returning(targets.c.account_id, targets.c.platform)
    ).all()
    if canceled:
        emit(conn, workspace_id, "post.canceled", {
            "post_id": post_id, "status": "canceled",
            "targets": [{"account_id": t.account_id, "platform": t.platform} for t in canceled],
        }, post_id=post_id, now=now)
        refresh_status(conn, post_id, now)
    return get_post(conn, workspace_id, post_id), len(canceled)


def rollup(statuses: list[str]) -> str:
    """The post status its targets imply."""
    counts = Counter(statuses)
    if counts["unpublishing"]:
        return "unpublishing"
    if any(s not in FINAL for s in statuses):
        waiting_only = counts["scheduled"] + counts["canceled"] == len(statuses)
        return "scheduled" if waiting_only and counts["scheduled"] else "publishing"
    if counts["unpublished"] and not counts["confirmed"]:
        return "unpublished"
    if counts["confirmed"] == len(statuses):
        return "published"
    if counts["confirmed"]:
        return "partially_published"
    if counts["failed"]:
        return "failed"
    return "canceled"


_LOCK_POST = Prepared(
    select(posts.c.status, posts.c.workspace_id).where(posts.c.id == bindparam("post_id")).with_for_update()
)
_ROLLUP_TARGETS = Prepared(
    select(targets.c.account_id, targets.c.platform, targets.c.status, targets.c.permalink)
    .where(targets.c.post_id == bindparam("post_id")).order_by(targets.c.position)
)
_SET_POST_STATUS = Prepared(
    update(posts).where(posts.c.id == bindparam("post_id"), posts.c.status == bindparam("old"))
    .values(status=bindparam("new"), updated_at=bindparam("now"))
)


def refresh_status(conn: Connection, post_id: str, now: datetime) -> str:
    """Recompute a post's status from its targets; emits post.completed when it becomes final."""
    # lock the post first: two workers finishing its last two targets must not both miss "all final"
    post = _LOCK_POST.first(conn, {"post_id": post_id})
    assert post is not None, post_id
    rows = _ROLLUP_TARGETS.rows(conn, {"post_id": post_id})
    new = rollup([r["status"] for r in rows])
    if new == post["status"]:
        return new
    changed = _SET_POST_STATUS.run(conn, {"post_id": post_id, "old": post["status"], "new": new, "now": now})
    # an unpublish ending is no second completion: `post.unpublished` events tell it per target
    if changed and all(r["status"] in FINAL for r in rows) and new != "canceled" and post["status"] != "unpublishing":
        emit(conn, post["workspace_id"], "post.completed", {"post_id": post_id, "status": new, "targets": rows},
             post_id=post_id, now=now)
    return new


class NotEditable(Exception):
    """A target of the post has started publishing (or was canceled): the post can no longer be edited."""


def update_post(conn: Connection, workspace_id: str, post_id: str, *, caption: str, media: list[dict[str, Any]],
                scheduled_at: datetime | None, versions: dict[str, Any] | None, accounts: list[dict[str, Any]],
                contents: Sequence[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """Replace a post's content and targets while every target is still `scheduled`; None for an unknown post.

    Raises NotEditable when a target has moved on. The targets are replaced first, conditionally on their
    status, in the order a claim takes its rows (targets, then the post), so an edit racing the scheduler's
    claim either sees every target still scheduled or changes nothing; the caller's transaction rolls back.
    """
    post = conn.execute(select(posts.c.id).where(
        posts.c.id == post_id, posts.c.workspace_id == workspace_id)).first()
    if post is None:
        return None
    total = conn.execute(select(func.count()).select_from(targets).where(targets.c.post_id == post_id)).scalar_one()
    removed = conn.execute(targets.delete().where(targets.c.post_id == post_id, targets.c.status == "scheduled")).rowcount
    if removed != total:
        raise NotEditable(post_id)
    status = "scheduled" if scheduled_at else "publishing"
    rows = [
        {"id": new_id("tgt"), "post_id": post_id, "position": i, "workspace_id": workspace_id,
         "account_id": acct["id"], "platform": acct["platform"], "status": "scheduled", "attempts": 0,
         "next_attempt_at": scheduled_at or now, "updated_at": now, "content": contents[i],
         "first_comment": _first_comment(contents[i]), "thread": _thread(contents[i])}
        for i, acct in enumerate(accounts)
    ]
    _INSERT_TARGET.run_many(conn, rows)
    conn.execute(update(posts).where(posts.c.id == post_id).values(
        caption=caption, media=media, scheduled_at=scheduled_at, versions=versions, status=status, updated_at=now))
    emit(conn, workspace_id, "post.updated", {
        "post_id": post_id, "status": status, "scheduled_at": None if scheduled_at is None else format_time(scheduled_at),
        "targets": [{"account_id": r["account_id"], "platform": r["platform"]} for r in rows],
    }, post_id=post_id, now=now)
    return get_post(conn, workspace_id, post_id)


def _first_comment(content: dict[str, Any] | None) -> dict[str, Any] | None:
    """A target's first-comment record from its effective content (None: it asks for none)."""
    text = (content or {}).get("first_comment")
    return {"text": text, "status": "pending"} if text else None


def _thread(content: dict[str, Any] | None) -> dict[str, Any] | None:
    """A target's thread record from its effective content (None: it has no thread)."""
    items = (content or {}).get("thread")
    return {"status": "pending", "items": [{"status": "pending"} for _ in items]} if items else None
