"""The engine's queries: claim due work with a lease, finish it conditionally, find expired leases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, bindparam, case, or_, select, update

from .prepared import Prepared
from .schema import deliveries, posts, targets
from .unpublish import FOLLOW_UP, FOLLOW_UP_WAITING, any_due, take_back_unpublishes

TARGET_DUE = ("scheduled", "retrying")
#: plain retry after a lease ran out before the attempt's platform call started: nothing can exist
INTERRUPTED = {"code": "interrupted", "retryable": True, "platform_error": None,
               "message": "the attempt stopped before calling the platform; publishing again"}


def _due(table: Table, due: tuple[str, ...]) -> ColumnElement[bool]:
    """Rows waiting in `due`; for targets also a `processing` one whose next check has come (no lease)."""
    if table is not targets:
        return table.c.status.in_(due)
    # one IN list, so the (status, next_attempt_at) index still bounds the scan; in-flight rows filtered out
    return and_(table.c.status.in_((*due, "publishing")),
                or_(table.c.status != "publishing", and_(table.c.phase == "processing", table.c.lease_until.is_(None))))


def _claim(
    conn: Connection, table: Table, waiting: ColumnElement[bool], to: str | None, now: datetime, lease_until: datetime,
    limit: int, *, skip_locked: bool, owner: str | None = None,
) -> list[Any]:
    """Lease up to `limit` rows `waiting` whose time has come, oldest due first, moving them to `to` (None: their
    status stays, as an unpublish's or a first comment's does)."""
    candidates = (
        select(table.c.id)
        .where(waiting, table.c.next_attempt_at <= now)
        .order_by(table.c.next_attempt_at)
        .limit(limit)
    )
    if skip_locked:  # PostgreSQL: several engines take disjoint batches instead of queueing on row locks
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(conn.execute(candidates).scalars())
    if not ids:
        return []
    moved = {} if to is None else {"status": to}
    # the waiting condition is the real guard: only one claimer's UPDATE matches a row
    return list(conn.execute(
        update(table)
        .where(table.c.id.in_(ids), waiting, table.c.next_attempt_at <= now)
        .values(attempts=table.c.attempts + 1, lease_until=lease_until, lease_owner=owner, updated_at=now, **moved)
        .returning(*claim_columns(table))
    ).all())


def anything_due(conn: Connection, now: datetime) -> dict[str, bool]:
    """Whether any target or delivery is due: a cheap read, so an idle tick never takes the write lock."""
    def due(table: Table, statuses: tuple[str, ...]) -> bool:
        return conn.execute(select(table.c.id).where(_due(table, statuses), table.c.next_attempt_at <= now)
                            .limit(1)).first() is not None
    return {"publish": due(targets, TARGET_DUE) or any_due(conn, now), "deliver": due(deliveries, ("pending",))}


def claim_columns(table: Table) -> tuple[Any, ...]:
    """What a claim returns for dispatching."""
    if table is targets:
        return targets.c.id, targets.c.attempts, targets.c.post_id
    return deliveries.c.id, deliveries.c.attempts


def claim_targets(
    conn: Connection, now: datetime, lease_until: datetime, limit: int, *, skip_locked: bool = False,
    owner: str | None = None,
) -> list[Any]:
    """Move due targets to `publishing` (or lease due unpublishes), leased to `owner`; returns (id, attempts, post_id)."""
    claimed = _claim(conn, targets, _due(targets, TARGET_DUE), "publishing", now, lease_until, limit,
                     skip_locked=skip_locked, owner=owner)
    if len(claimed) < limit:  # unpublishes and first comments run as publish jobs: the publisher tells them apart
        claimed += _claim(conn, targets, FOLLOW_UP_WAITING, None, now, lease_until, limit - len(claimed),
                          skip_locked=skip_locked, owner=owner)
    post_ids = list({row.post_id for row in claimed})
    if post_ids:
        conn.execute(
            update(posts).where(posts.c.id.in_(post_ids), posts.c.status == "scheduled")
            .values(status="publishing", updated_at=now)
        )
    return claimed


def claim_deliveries(
    conn: Connection, now: datetime, lease_until: datetime, limit: int, *, skip_locked: bool = False,
    owner: str | None = None,
) -> list[Any]:
    """Move due deliveries to `delivering`, leased to `owner`; returns (id, attempts) of each."""
    return _claim(conn, deliveries, _due(deliveries, ("pending",)), "delivering", now, lease_until, limit,
                  skip_locked=skip_locked, owner=owner)


def expired_leases(conn: Connection, table: Table, busy: str, now: datetime, limit: int,
                   owners: Sequence[str] = ()) -> list[Any]:
    """Rows stuck in `busy` whose lease ran out or whose owner is dead (their worker died)."""
    gone = or_(table.c.lease_until < now, table.c.lease_owner.in_(owners)) if owners else table.c.lease_until < now
    return list(conn.execute(
        select(table.c.id, table.c.attempts)
        .where(table.c.status == busy, gone)
        .order_by(table.c.lease_until)
        .limit(limit)
    ).all())


def take_back(conn: Connection, table: Table, busy: str, now: datetime, limit: int, *, to: str,
              owners: Sequence[str] = (), **values: Any) -> int:
    """Return rows in `busy` whose lease expired (or whose owner is dead) to `to`, due now; finished ones stay."""
    expired = expired_leases(conn, table, busy, now, limit, owners)
    return release(conn, table, busy, [(row.id, row.attempts) for row in expired], now, to=to, **values)


def release(conn: Connection, table: Table, busy: str, rows: Sequence[tuple[str, int]], now: datetime, *, to: str,
            **values: Any) -> int:
    """Put rows (id, attempt) still in `busy` under that attempt back to `to`, due now and unleased."""
    released = 0
    for row_id, attempt in rows:
        released += conn.execute(
            update(table).where(table.c.id == row_id, table.c.status == busy, table.c.attempts == attempt)
            .values(status=to, next_attempt_at=now, lease_until=None, lease_owner=None, updated_at=now, **values)
        ).rowcount
    return released


def release_targets(conn: Connection, rows: Sequence[tuple[str, int]], now: datetime, *,
                    unknown: dict[str, Any]) -> int:
    """`release` for targets: `unknown` where the attempt had started its platform call, else a plain retry;
    a follow-up attempt's row is only unleased, due now (a thread item settles its own saved call start)."""
    released = 0
    for row_id, attempt in rows:
        released += conn.execute(
            update(targets).where(targets.c.id == row_id, targets.c.status.in_(FOLLOW_UP),
                                  targets.c.attempts == attempt, targets.c.lease_until.is_not(None))
            .values(next_attempt_at=now, lease_until=None, lease_owner=None, updated_at=now)
        ).rowcount
        for started, error in ((True, unknown), (False, INTERRUPTED)):
            called = targets.c.call_attempt == attempt
            released += conn.execute(
                update(targets).where(targets.c.id == row_id, targets.c.status == "publishing",
                                      targets.c.attempts == attempt, called if started else or_(
                                          targets.c.call_attempt.is_(None), ~called))
                .values(status="retrying", next_attempt_at=now, lease_until=None, lease_owner=None, updated_at=now,
                        phase=None, error=error)
            ).rowcount
    return released


def take_back_targets(conn: Connection, now: datetime, limit: int, *, unknown: dict[str, Any],
                      owners: Sequence[str] = ()) -> int:
    """Targets whose lease expired (or whose owner is dead) back to `retrying`, judged by whether their call started."""
    expired = expired_leases(conn, targets, "publishing", now, limit, owners)
    released = release_targets(conn, [(row.id, row.attempts) for row in expired], now, unknown=unknown)
    return released + take_back_unpublishes(conn, now, owners=owners)


def save_progress(conn: Connection, target_id: str, attempt: int, now: datetime, *, platform_state: str | None,
                  call_started_at: datetime | None) -> bool:
    """Store an attempt's in-flight handles (sealed) and its call start, only while it still owns the target."""
    values: dict[str, Any] = {"platform_state": platform_state, "updated_at": now}
    if call_started_at is not None:
        values |= {"call_started_at": call_started_at, "call_attempt": attempt}
    return conn.execute(
        update(targets).where(targets.c.id == target_id, targets.c.status == "publishing",
                              targets.c.attempts == attempt).values(**values)
    ).rowcount == 1


def await_processing(conn: Connection, target_id: str, attempt: int, now: datetime, *, check_at: datetime,
                     since: datetime) -> bool:
    """Put a target in its `processing` phase: still publishing, unleased, its next check due at `check_at`."""
    return conn.execute(
        update(targets).where(targets.c.id == target_id, targets.c.status == "publishing",
                              targets.c.attempts == attempt)
        .values(phase="processing", lease_until=None, lease_owner=None, next_attempt_at=check_at, processing_since=since,
                processing_checks=targets.c.processing_checks + 1, error=None, updated_at=now)
    ).rowcount == 1


def unclaim(conn: Connection, table: Table, busy: str, rows: Sequence[tuple[str, int]], now: datetime) -> int:
    """Undo claims whose attempt never started: status and attempt count as before the claim, unleased."""
    before = case((table.c.phase == "processing", "publishing"), (table.c.attempts <= 1, "scheduled"),
                  else_="retrying") if table is targets else "pending"
    released = 0
    for row_id, attempt in rows:
        released += conn.execute(
            update(table).where(table.c.id == row_id, table.c.status == busy, table.c.attempts == attempt)
            .values(status=before, attempts=table.c.attempts - 1, lease_until=None, lease_owner=None, updated_at=now)
        ).rowcount
    return released


def _held(table: Table, busy: str) -> ColumnElement[bool]:
    """Rows an attempt runs on: in `busy`, or for targets a leased follow-up (thread item, comment, delete)."""
    if table is not targets:
        return table.c.status == busy
    # a follow-up keeps its status; its lease is what says an attempt runs (a taken-back one has none)
    return or_(table.c.status == busy, and_(table.c.status.in_(FOLLOW_UP), table.c.lease_until.is_not(None)))


def hold(conn: Connection, table: Table, busy: str, row_id: str, attempt: int, owner: str,
         lease_until: datetime) -> bool:
    """Renew one attempt's lease for `owner` (who may take it over from the claimer); False if it is gone."""
    return conn.execute(
        update(table).where(table.c.id == row_id, _held(table, busy), table.c.attempts == attempt)
        .values(lease_until=lease_until, lease_owner=owner)
    ).rowcount == 1


# built once: every publish attempt runs these
_LOAD_TARGET = Prepared(
    select(targets, posts.c.caption, posts.c.media).join(posts, posts.c.id == targets.c.post_id)
    .where(targets.c.id == bindparam("target_id"))
)
_FINISH_TARGET = Prepared(
    update(targets)
    .where(targets.c.id == bindparam("target_id"), targets.c.status == "publishing",
           targets.c.attempts == bindparam("attempt"))
    .values(status=bindparam("new_status"), error=bindparam("new_error"), permalink=bindparam("new_permalink"),
            platform_post_id=bindparam("new_platform_post_id"), next_attempt_at=bindparam("new_next_attempt_at"),
            lease_until=None, phase=None, tries=targets.c.attempts - targets.c.processing_checks,
            updated_at=bindparam("now"))
)


def load_target(conn: Connection, target_id: str) -> dict[str, Any] | None:
    """A target joined with its post's caption and media."""
    return _LOAD_TARGET.first(conn, {"target_id": target_id})


def finish_target(conn: Connection, target_id: str, attempts: int, now: datetime, *, status: str,
                  error: dict[str, Any] | None = None, permalink: str | None = None,
                  platform_post_id: str | None = None, next_attempt_at: datetime | None = None) -> bool:
    """Record an attempt's outcome, only if this attempt still owns the target."""
    return _FINISH_TARGET.run(conn, {
        "target_id": target_id, "attempt": attempts, "now": now, "new_status": status, "new_error": error,
        "new_permalink": permalink, "new_platform_post_id": platform_post_id, "new_next_attempt_at": next_attempt_at,
    }) == 1
