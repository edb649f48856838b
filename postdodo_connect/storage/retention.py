"""Retention: expired idempotency keys, old delivery response bodies, old events and connect sessions go, in batches.

Each batch is its own short write transaction, so the API and the engine never wait long behind a purge.
Walks follow the primary key (events.seq, delivery_attempts.id): both grow with time, and no extra index is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, tuple_, update

from .db import Database
from .schema import connect_sessions, deliveries, delivery_attempts, events, idempotency_keys

DAY = 86400.0
BATCH = 500  # ids per statement stay under old SQLite builds' 999 bound parameters
MAX_BATCHES = 40  # per kind and pass: a large backlog is worked off over several passes
UNFINISHED = ("pending", "delivering")


@dataclass(frozen=True)
class Retention:
    """How long each kind of record is kept (seconds; 0 keeps it forever)."""

    idempotency_seconds: float = DAY
    events_seconds: float = 30 * DAY
    attempt_bodies_seconds: float = 7 * DAY
    #: after a connect session expired: long enough for a caller to read how it ended
    connect_sessions_seconds: float = DAY


@dataclass
class Purger:
    """Runs the retention rules; remembers how far the attempt-body walk got (per process)."""

    db: Database
    policy: Retention
    batch: int = BATCH
    bodies_after: int = 0

    def purge(self, now: datetime) -> dict[str, int]:
        """One pass of every rule; returns how many records each removed (or emptied)."""
        counts = {"idempotency_keys": 0, "attempt_bodies": 0, "events": 0, "connect_sessions": 0}
        if self.policy.idempotency_seconds:
            counts["idempotency_keys"] = self._repeat(
                lambda: self._idempotency(now - timedelta(seconds=self.policy.idempotency_seconds)))
        if self.policy.attempt_bodies_seconds:
            counts["attempt_bodies"] = self._repeat(
                lambda: self._bodies(now - timedelta(seconds=self.policy.attempt_bodies_seconds)))
        if self.policy.events_seconds:
            counts["events"] = self._repeat(
                lambda: self._events(now - timedelta(seconds=self.policy.events_seconds)))
        if self.policy.connect_sessions_seconds:
            counts["connect_sessions"] = self._repeat(
                lambda: self._connect_sessions(now - timedelta(seconds=self.policy.connect_sessions_seconds)))
        return counts

    @staticmethod
    def _repeat(step: Callable[[], tuple[int, bool]]) -> int:
        """Run a batch step until it comes back short or MAX_BATCHES ran."""
        total = 0
        for _ in range(MAX_BATCHES):
            done, more = step()
            total += done
            if not more:
                break
        return total

    def _idempotency(self, before: datetime) -> tuple[int, bool]:
        """Drop keys past their replay window (in-flight ones too: their lease ran out long ago)."""
        keys = idempotency_keys
        expired = select(keys.c.scope, keys.c.key).where(keys.c.created_at < before).limit(self.batch)
        with self.db.write() as conn:
            gone = conn.execute(delete(keys).where(tuple_(keys.c.scope, keys.c.key).in_(expired))).rowcount
        return gone, gone == self.batch

    def _connect_sessions(self, before: datetime) -> tuple[int, bool]:
        """Drop connect sessions that expired before `before`, with any sealed PKCE verifier a pending one kept."""
        old = select(connect_sessions.c.id).where(connect_sessions.c.expires_at < before).limit(self.batch)
        with self.db.write() as conn:
            gone = conn.execute(delete(connect_sessions).where(connect_sessions.c.id.in_(old))).rowcount
        return gone, gone == self.batch

    def _bodies(self, before: datetime) -> tuple[int, bool]:
        """Empty the response bodies of attempts made before `before`; the status and timing stay."""
        attempts = delivery_attempts
        with self.db.write() as conn:
            rows = conn.execute(select(attempts.c.id, attempts.c.attempted_at, attempts.c.response_body.is_not(None))
                                .where(attempts.c.id > self.bodies_after).order_by(attempts.c.id)
                                .limit(self.batch)).all()
            old = [row for row in rows if row.attempted_at < before]
            ids = [row.id for row in old if row[2]]
            if ids:
                conn.execute(update(attempts).where(attempts.c.id.in_(ids)).values(response_body=None))
        if old:
            self.bodies_after = old[-1].id
        # attempts are logged in time order, so the first young one ends the walk for now
        return len(ids), len(old) == len(rows) == self.batch

    def _events(self, before: datetime) -> tuple[int, bool]:
        """Delete events older than `before` with their deliveries and attempt logs, unless a delivery is unfinished."""
        with self.db.write() as conn:
            rows = conn.execute(select(events.c.seq, events.c.id, events.c.created_at).order_by(events.c.seq)
                                .limit(self.batch)).all()
            old = [row for row in rows if row.created_at < before]
            ids = [row.id for row in old]
            if ids:
                busy = set(conn.execute(select(deliveries.c.event_id).where(
                    deliveries.c.event_id.in_(ids), deliveries.c.status.in_(UNFINISHED))).scalars())
                ids = [event_id for event_id in ids if event_id not in busy]
            if ids:
                finished = select(deliveries.c.id).where(deliveries.c.event_id.in_(ids),
                                                         deliveries.c.status.not_in(UNFINISHED))
                conn.execute(delete(delivery_attempts).where(delivery_attempts.c.delivery_id.in_(finished)))
                conn.execute(delete(deliveries).where(deliveries.c.event_id.in_(ids),
                                                      deliveries.c.status.not_in(UNFINISHED)))
                # re-checked in the statement: a redelivery queued meanwhile keeps its event
                unfinished = exists().where(deliveries.c.event_id == events.c.id, deliveries.c.status.in_(UNFINISHED))
                conn.execute(delete(events).where(events.c.id.in_(ids), ~unfinished))
        # an event held back by an unfinished delivery stays at the head: the next pass looks again
        return len(ids), len(ids) == len(rows) == self.batch
