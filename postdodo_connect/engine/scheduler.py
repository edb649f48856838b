"""The scheduler: claim due targets and deliveries with a lease, dispatch them, reap expired leases."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..errors import QueueUnavailable
from ..storage import Database, heartbeat, owners, work
from ..storage.retention import Purger, Retention
from ..storage.schema import deliveries, targets
from .credentials import TokenSweep
from .dispatch import Dispatcher, Job, Unfinished

if TYPE_CHECKING:
    from .leases import Leases

log = logging.getLogger("postdodo.scheduler")
REAP_EVERY = 5.0  # seconds between looks for expired leases
PURGE_EVERY = 300.0  # seconds (of the injected clock) between retention passes
LEASE_EXPIRED = {"code": "lease_expired", "retryable": True, "platform_error": None,
                 "message": "the worker stopped during the platform call; checking the platform first"}


class Scheduler:
    """One tick claims what is due now; `run` ticks until stopped. Safe to run in several processes."""

    def __init__(self, db: Database, dispatcher: Dispatcher, clock: Callable[[], datetime], *,
                 lease_seconds: float, tick_seconds: float, batch: int, retention: Retention | None = None,
                 leases: Leases | None = None, tokens: TokenSweep | None = None) -> None:
        self.db, self.dispatcher, self.clock = db, dispatcher, clock
        self.tokens = tokens
        #: this process's lease owner: claims carry its id, and the reaper asks it which owners are dead
        self.leases = leases
        self.queue_down = False  # a dispatch outage is logged once, not every tick
        self.purger = Purger(db, retention or Retention())
        self._last_purge: datetime | None = None
        self.lease = timedelta(seconds=lease_seconds)
        self.tick_seconds, self.batch = tick_seconds, batch
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self._last_reap = 0.0
        self._last_beat = float("-inf")

    def kick(self) -> None:
        """Something became due: tick now instead of at the next interval."""
        self.wake.set()

    def tick(self) -> int:
        """Claim and dispatch due work once; returns how many jobs were dispatched."""
        dispatched = 0
        outage: QueueUnavailable | None = None
        try:
            room = {kind: min(self.batch, self.dispatcher.free_slots(kind)) for kind in ("publish", "deliver")}
        except QueueUnavailable as exc:  # RQ's capacity is read from Redis: nothing is claimed while it is away
            outage, room = exc, {"publish": 0, "deliver": 0}
        due = dict.fromkeys(room, False)
        if any(room.values()):
            with self.db.read() as conn:
                due = work.anything_due(conn, self.clock())
        for kind, claim in (("publish", work.claim_targets), ("deliver", work.claim_deliveries)):
            limit = room[kind]
            if limit <= 0 or not due[kind]:
                continue
            now = self.clock()
            with self.db.write() as conn:
                claimed = claim(conn, now, now + self.lease, limit, skip_locked=not self.db.is_sqlite,
                                owner=self.leases.owner if self.leases else None)
            if claimed:
                try:
                    self._submit(kind, [(row.id, row.attempts) for row in claimed])
                except QueueUnavailable as exc:
                    outage = exc  # raised after the reaper and the heartbeat: /healthz must not call the engine dead
                    continue
            dispatched += len(claimed)
        if time.monotonic() - self._last_reap > REAP_EVERY:
            self._last_reap = time.monotonic()
            self.reap()
        self.purge_if_due()
        self.renew_if_due()
        if time.monotonic() - self._last_beat > heartbeat.EVERY:
            self.beat()
        if outage is not None:
            raise outage
        return dispatched

    def _submit(self, kind: str, jobs: list[tuple[str, int]]) -> None:
        try:
            self.dispatcher.submit(kind, jobs)
        except QueueUnavailable:
            # never handed over: undo the claims now, so the rows wait as they were (no attempt spent, no lease)
            table, busy = (targets, "publishing") if kind == "publish" else (deliveries, "delivering")
            with self.db.write() as conn:
                work.unclaim(conn, table, busy, jobs, self.clock())
            raise

    def beat(self) -> None:
        """Record the heartbeat /healthz and /metrics read: this scheduler is alive and ticking."""
        self._last_beat = time.monotonic()
        with self.db.write() as conn:
            heartbeat.beat(conn, self.clock())

    def reap(self) -> int:
        """Take back rows whose worker died (lease run out, or owner dead): targets are reconciled next attempt."""
        now = self.clock()
        with self.db.write() as conn:
            dead = self.leases.dead_owners(conn, now) if self.leases else []
            # `lease_expired` (only where the platform call had started) makes the next attempt reconcile first
            count = work.take_back_targets(conn, now, self.batch, unknown=LEASE_EXPIRED, owners=dead)
            count += work.take_back(conn, deliveries, "delivering", now, self.batch, to="pending", owners=dead)
            owners.forget(conn, dead)
        if dead:
            log.warning("lease owners %s are dead: taking their leases back", ", ".join(dead))
        if count:
            log.warning("took back %d rows whose lease expired or whose owner died", count)
            self.kick()
        return count

    def purge_if_due(self) -> dict[str, int] | None:
        """Apply the retention rules every PURGE_EVERY seconds; returns the counts when a pass ran."""
        now = self.clock()
        if self._last_purge is not None and (now - self._last_purge).total_seconds() < PURGE_EVERY:
            return None
        self._last_purge = now
        counts = self.purger.purge(now)
        if any(counts.values()):
            log.info("retention: removed %(idempotency_keys)d idempotency keys and %(events)d events, "
                     "emptied %(attempt_bodies)d attempt bodies", counts)
        return counts

    def renew_if_due(self) -> int:
        """The refresh-ahead pass (engine/credentials.py); the renewals themselves run as `refresh` jobs."""
        if self.tokens is None or not self.tokens.due():
            return 0
        due = self.tokens.sweep()
        if due:
            stamp = int(self.clock().timestamp())  # one job id per account and pass
            try:
                self.dispatcher.submit("refresh", [(account_id, stamp) for account_id in due])
            except QueueUnavailable:
                return 0  # the next pass finds them again, long before they expire
        return len(due)

    def hand_back(self, left: Unfinished) -> int:
        """Release the leases of work this process claimed and will not finish, so any engine resumes it now."""
        def rows(jobs: list[Job], kind: str) -> list[tuple[str, int]]:
            return [(row_id, attempt) for job_kind, row_id, attempt in jobs if job_kind == kind]

        now = self.clock()
        with self.db.write() as conn:
            count = work.unclaim(conn, targets, "publishing", rows(left.queued, "publish"), now)
            count += work.unclaim(conn, deliveries, "delivering", rows(left.queued, "deliver"), now)
            # these attempts may have reached the platform: the next one looks before publishing again
            count += work.release_targets(conn, rows(left.running, "publish"), now, unknown=LEASE_EXPIRED)
            count += work.release(conn, deliveries, "delivering", rows(left.running, "deliver"), now, to="pending")
        return count

    def run(self) -> None:
        """Tick until `stop()`; errors are logged and the loop goes on."""
        while not self.stopped.is_set():
            self.wake.clear()  # before the tick: a kick that arrives during it starts the next one at once
            if not self.safe_tick():
                self.wake.wait(self.tick_seconds)

    def safe_tick(self) -> bool:
        """One tick that never raises; True when it was busy. A queue outage is logged when it starts and ends."""
        try:
            dispatched = self.tick()
        except QueueUnavailable as exc:
            if not self.queue_down:
                log.warning("%s; due work waits in the database until the queue is back", exc)
            self.queue_down = True
            return False
        except Exception:
            log.exception("scheduler tick failed")
            return False
        if self.queue_down and dispatched:
            self.queue_down = False
            log.info("the queue is reachable again")
        return dispatched >= self.batch

    def stop(self) -> None:
        """End `run` at its next turn."""
        self.stopped.set()
        self.wake.set()
