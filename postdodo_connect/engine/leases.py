"""Leases that match work: an owner id per process start, leases renewed while jobs run, dead owners found.

    claim (scheduler)            lease_until = now + lease, lease_owner = the engine's owner id
    job starts (pool or RQ)      hold(): renewed from now, taken over by the process that runs it; gone → stand down
    while it runs                the renewer thread renews it every lease/3 s and beats the owner's row
    job raises (RQ timeout, …)   handed back at once: `retrying` + lease_expired, reconciled on its next attempt
    owner dies (kill -9)         the reaper of any engine sees its beat stop, or on the same machine its pid
                                 gone, and takes its rows back at once instead of waiting out the lease
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from ..storage import Database, owners, work
from ..storage.ids import new_id
from ..storage.schema import deliveries, targets
from .scheduler import LEASE_EXPIRED

log = logging.getLogger("postdodo.leases")

#: where each kind of job's rows live and the status that means "someone holds it"
TABLES = {"publish": (targets, "publishing"), "deliver": (deliveries, "delivering")}
MAX_BEAT = 5.0  # seconds between renewals at most, whatever the lease


def job_timeout(lease_seconds: float) -> int:
    """RQ's limit on one attempt: below the lease, so a stuck job is stopped before its lease could lapse."""
    return max(1, int(lease_seconds * 0.8))


@dataclass(frozen=True)
class Identity:
    """Where a process runs: `scope` names the kernel boot and pid namespace in which `pid` means it."""

    host: str
    scope: str
    pid: int
    pid_started: str | None


def this_process() -> Identity:
    """This process's identity."""
    host = socket.gethostname()
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        scope = f"{boot}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:  # not Linux: no pid namespaces to tell apart, the host name has to do
        scope = f"host:{host}"
    return Identity(host=host[:200], scope=scope[:200], pid=os.getpid(), pid_started=_started(os.getpid()))


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) from /proc, or None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return fields[0], fields[19]


def _started(pid: int) -> str | None:
    found = _stat(pid)
    return found[1] if found else None


def alive(pid: int, started: str | None) -> bool:
    """Whether process `pid` (started at `started`) still runs here; a pid reused since is not it."""
    if Path("/proc/self/stat").exists():
        found = _stat(pid)
        return found is not None and found[0] not in ("Z", "X") and (started is None or found[1] == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_dead(row: Any, me: Identity, now: datetime, timeout: float) -> bool:
    """An owner is dead when its beat stopped, or when it ran where its pid is checkable and is gone."""
    if row.beat_at < now - timedelta(seconds=timeout):
        return True
    return bool(row.scope == me.scope and not alive(row.pid, row.pid_started))


@dataclass
class Held:
    """An attempt this process is running under its lease."""

    kind: str
    row_id: str
    attempt: int
    lost: threading.Event = field(default_factory=threading.Event)


class Leases:
    """This process's lease owner: registers it, renews what it holds, says which other owners are dead."""

    def __init__(self, db: Database, clock: Callable[[], datetime], *, lease_seconds: float,
                 owner_timeout: float) -> None:
        self.db, self.clock = db, clock
        self.lease = timedelta(seconds=lease_seconds)
        self.owner_timeout = owner_timeout
        self.owner = new_id("own")
        self.identity = this_process()
        self.role: str | None = None
        #: embedded: the jobs waiting in this process's pools, renewed with the running ones
        self.queued: Callable[[], Iterable[tuple[str, str, int]]] | None = None
        self.every = min(lease_seconds / 3, owner_timeout / 3, MAX_BEAT)
        self.running: dict[tuple[str, str, int], Held] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, role: str, *, queued: Callable[[], Iterable[tuple[str, str, int]]] | None = None) -> None:
        """Register this process and start renewing what it runs, and what `queued` says waits in its pools."""
        if self.role is not None:
            return
        self.role, self.queued = role, queued
        self._register()
        self._thread = threading.Thread(target=self._run, name="postdodo-leases", daemon=True)
        self._thread.start()

    def _register(self) -> None:
        with self.db.write() as conn:
            self._register_in(conn, self.clock())

    def stop(self) -> None:
        """Stop renewing and unregister (a clean stop: whatever this process held was handed back)."""
        self.stopped.set()
        if self._thread:
            self._thread.join(timeout=10)
        if self.role is not None:
            with contextlib.suppress(Exception), self.db.write() as conn:
                owners.remove(conn, self.owner)
            self.role = None

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                self.renew()
            except Exception:  # the database is away: the leases run on, the next pass tries again
                log.exception("renewing leases failed")

    def renew(self) -> int:
        """One pass: beat, renew every running attempt (marking the ones found gone); returns how many lost."""
        now = self.clock()
        until = now + self.lease
        with self.lock:
            held = list(self.running.values())
        waiting = set(self.queued() if self.queued else ()) - {(item.kind, item.row_id, item.attempt) for item in held}
        lost = []
        with self.db.write() as conn:
            if not owners.beat(conn, self.owner, now):
                # a successor took us for dead and took our leases back: the renewals below say which
                log.warning("lease owner %s was declared dead; registering again", self.owner)
                self._register_in(conn, now)
            for item in held:
                table, busy = TABLES[item.kind]
                if not work.hold(conn, table, busy, item.row_id, item.attempt, self.owner, until):
                    lost.append(item)
            for kind, row_id, attempt in waiting:  # gone already: the job stands down when it starts
                work.hold(conn, *TABLES[kind], row_id, attempt, self.owner, until)
        for item in lost:
            if not item.lost.is_set():
                log.warning("%s attempt %d of %s lost its lease: standing down", item.kind, item.attempt, item.row_id)
                item.lost.set()
        return len(lost)

    def _register_in(self, conn: Connection, now: datetime) -> None:
        me = self.identity
        owners.register(conn, self.owner, role=self.role or "engine", host=me.host, scope=me.scope, pid=me.pid,
                        pid_started=me.pid_started, now=now)

    def hold(self, kind: str, row_id: str, attempt: int) -> Held | None:
        """Renew the lease as the attempt starts (queue time does not count); None when it is gone."""
        table, busy = TABLES[kind]
        with self.db.write() as conn:
            if not work.hold(conn, table, busy, row_id, attempt, self.owner, self.clock() + self.lease):
                return None
        return self._track(Held(kind, row_id, attempt))

    def _track(self, held: Held) -> Held:
        with self.lock:
            self.running[(held.kind, held.row_id, held.attempt)] = held
        return held

    def run(self, kind: str, job: Callable[[str, int], str], row_id: str, attempt: int) -> str:
        """Run one attempt under its lease: stand down when it is gone, hand it back if the attempt raises."""
        if self.queued is not None:
            # embedded: this process claimed the row and has renewed it in its pool ever since, so no write
            # here (one per attempt); the job's own load stands it down if the row moved on meanwhile
            held: Held | None = self._track(Held(kind, row_id, attempt))
        else:
            held = self.hold(kind, row_id, attempt)
        if held is None:
            return "skipped"  # re-claimed or taken back while it waited: someone else owns it now
        try:
            return job(row_id, attempt)
        except BaseException:  # a job timeout, a bug: the attempt ended without an outcome, free the row now
            self.hand_back(held)
            raise
        finally:
            with self.lock:
                self.running.pop((kind, row_id, attempt), None)

    def hand_back(self, held: Held) -> None:
        """Release an attempt that ended without recording an outcome: due at once, reconciled if a target."""
        table, busy = TABLES[held.kind]
        rows, now = [(held.row_id, held.attempt)], self.clock()
        try:
            with self.db.write() as conn:
                if held.kind == "publish":  # reconciled next time only if its platform call had started
                    work.release_targets(conn, rows, now, unknown=LEASE_EXPIRED)
                else:
                    work.release(conn, table, busy, rows, now, to="pending")
        except Exception:  # the lease runs out on its own then
            log.exception("could not hand back %s %s", held.kind, held.row_id)

    def dead_owners(self, conn: Connection, now: datetime) -> list[str]:
        """The other owners that are dead (beat stopped, or pid gone on this machine)."""
        return [row.id for row in owners.others(conn, self.owner)
                if is_dead(row, self.identity, now, self.owner_timeout)]
