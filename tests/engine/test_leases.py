"""Leases that match work: held from the job's start, renewed while it runs, taken back when their owner dies."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from postdodo_connect.engine import Runtime
from postdodo_connect.engine.leases import _started, this_process
from postdodo_connect.engine.scheduler import Scheduler
from postdodo_connect.storage import owners, work
from postdodo_connect.storage.schema import lease_owners, sandbox_posts, targets
from tests.support.factory import Api, FakeClock, make_api

LEASE = 60.0


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> str:
    return f"sqlite:///{tmp_path / 'leases.db'}" if request.param == "sqlite" else pg_url


class Held:
    """A dispatcher that keeps claimed jobs until the test starts them (a queue, or a dead worker)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, str, int]] = []

    def free_slots(self, kind: str) -> int:
        return 100

    def submit(self, kind: str, jobs: list[tuple[str, int]]) -> None:
        self.jobs += [(kind, row_id, attempt) for row_id, attempt in jobs]

    def close(self, grace: float = 0.0) -> Any:
        raise NotImplementedError


@dataclass
class Setup:
    api: Api
    runtime: Runtime
    scheduler: Scheduler
    queue: Held
    clock: FakeClock
    key: str

    def post(self, *platforms: str) -> None:
        accounts = [self.api.sandbox_account(self.key, p)["id"] for p in platforms]
        response = self.api.call("POST", "/v1/posts", self.key, json={"caption": "lease", "account_ids": accounts})
        assert response.status_code == 201

    def rows(self) -> dict[str, Any]:
        with self.api.db.read() as conn:
            return {r.id: r for r in conn.execute(select(targets)).all()}

    def published(self) -> Counter[str]:
        with self.api.db.read() as conn:
            return Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))


def setup(url: str, sleep: Any = None) -> Setup:
    clock = FakeClock()
    api = make_api(url, clock=clock, lease_seconds=LEASE, owner_timeout=30.0, retry_jitter=0.0,
                   sandbox_faults={"latency_ms": 1} if sleep else {})
    runtime = Runtime(api.service.settings, api.db, clock=clock, sandbox_sleep=sleep or (lambda s: None))
    runtime.leases.stopped.set()  # no renewer thread racing the test: it calls renew() itself
    runtime.leases.start("engine")
    queue = Held()
    scheduler = Scheduler(api.db, queue, clock, lease_seconds=LEASE, tick_seconds=0.01, batch=100,
                          leases=runtime.leases)
    return Setup(api, runtime, scheduler, queue, clock, api.new_key())


def test_the_lease_runs_from_the_start_of_the_job_not_the_claim(url: str) -> None:
    s = setup(url)
    s.post("bluesky")
    assert s.scheduler.tick() == 1
    (_, target_id, attempt), = s.queue.jobs
    s.clock.advance(50)  # waited in the queue for most of the lease
    assert s.runtime.leases.hold("publish", target_id, attempt) is not None
    s.clock.advance(20)  # past the claim's lease, well within the job's
    assert s.scheduler.reap() == 0
    assert s.rows()[target_id].lease_until == s.clock.now + timedelta(seconds=LEASE - 20)


def test_a_running_attempt_is_renewed_and_never_taken_back(url: str) -> None:
    release, started = threading.Event(), threading.Event()

    def platform_is_slow(_seconds: float) -> None:
        started.set()
        release.wait(30)

    s = setup(url, sleep=platform_is_slow)
    s.post("bluesky")
    s.scheduler.tick()
    (_, target_id, attempt), = s.queue.jobs
    outcome: list[str] = []
    job = threading.Thread(target=lambda: outcome.append(s.runtime.publish(target_id, attempt)))
    job.start()
    assert started.wait(10)
    for _ in range(4):  # four lease-lengths of platform time, renewed every half lease
        s.clock.advance(LEASE / 2)
        assert s.runtime.leases.renew() == 0
        s.clock.advance(LEASE / 2)
        assert s.runtime.leases.renew() == 0
        assert s.scheduler.reap() == 0
    release.set()
    job.join(10)
    assert outcome == ["confirmed"]
    assert s.rows()[target_id].status == "confirmed" and s.published() == {target_id: 1}


def test_a_job_whose_lease_is_gone_stands_down(url: str) -> None:
    release, started = threading.Event(), threading.Event()

    def platform_is_slow(_seconds: float) -> None:
        started.set()
        release.wait(30)

    s = setup(url, sleep=platform_is_slow)
    s.post("bluesky", "mastodon")
    s.scheduler.tick()
    (_, late_id, late_attempt), (_, running_id, attempt) = s.queue.jobs
    job = threading.Thread(target=lambda: s.runtime.publish(running_id, attempt))
    job.start()
    assert started.wait(10)
    s.clock.advance(LEASE + 1)  # the renewer stalled (the database was away): both leases run out
    assert s.scheduler.reap() == 2
    s.queue.jobs.clear()
    assert s.scheduler.tick() == 2  # both re-claimed as attempt 2
    assert s.runtime.leases.renew() == 1  # the running attempt 1 finds its lease gone
    assert s.runtime.leases.running[("publish", running_id, attempt)].lost.is_set()
    # the queued attempt 1 starts only now: it stands down without calling the platform
    assert s.runtime.publish(late_id, late_attempt) == "skipped"
    release.set()
    job.join(10)
    rows = s.rows()
    assert rows[running_id].status == "publishing" and rows[running_id].attempts == 2  # nothing recorded by attempt 1
    for _, row_id, second in s.queue.jobs:
        assert s.runtime.publish(row_id, second) == "confirmed"
    assert s.published() == {late_id: 1, running_id: 1}  # attempt 2 found attempt 1's post instead of reposting


def _dead_pid() -> tuple[int, str | None]:
    """The pid (and start time) of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    started = _started(child.pid)
    child.kill()
    child.wait()
    return child.pid, started


def _claim_as(s: Setup, owner: str) -> list[str]:
    now = s.clock.now
    with s.api.db.write() as conn:
        return [r.id for r in work.claim_targets(conn, now, now.replace(year=now.year + 1), 10, owner=owner)]


def test_a_dead_predecessor_on_this_machine_loses_its_leases_at_once(url: str) -> None:
    s = setup(url)
    me = this_process()
    pid, started = _dead_pid()
    with s.api.db.write() as conn:
        owners.register(conn, "own_dead", role="engine", host=me.host, scope=me.scope, pid=pid, pid_started=started,
                        now=s.clock.now)
        owners.register(conn, "own_alive", role="engine", host=me.host, scope=me.scope, pid=me.pid,
                        pid_started=me.pid_started, now=s.clock.now)  # another live engine on this machine
    s.post("bluesky", "mastodon")
    dead = _claim_as(s, "own_dead")  # leased for a year: only the owner check can free them
    s.post("threads")
    alive = _claim_as(s, "own_alive")
    assert s.scheduler.reap() == 2  # no time has passed
    rows = s.rows()
    # claimed but their platform call never started: a plain retry, nothing to reconcile
    assert {rows[i].status for i in dead} == {"retrying"} and {rows[i].error["code"] for i in dead} == {"interrupted"}
    assert rows[alive[0]].status == "publishing"
    with s.api.db.read() as conn:
        assert {r.id for r in conn.execute(select(lease_owners.c.id))} == {"own_alive", s.runtime.leases.owner}
    assert s.scheduler.tick() == 2
    for _, row_id, attempt in s.queue.jobs:
        assert s.runtime.publish(row_id, attempt) == "confirmed"


def test_an_owner_elsewhere_is_dead_when_its_heartbeat_stops(url: str) -> None:
    s = setup(url)
    with s.api.db.write() as conn:
        owners.register(conn, "own_far", role="worker", host="far", scope="another-machine", pid=1, pid_started=None,
                        now=s.clock.now)
    s.post("bluesky")
    held = _claim_as(s, "own_far")
    s.clock.advance(25)
    assert s.scheduler.reap() == 0  # its pid means nothing here: only its beat counts, and it beat 25 s ago
    with s.api.db.write() as conn:
        assert owners.beat(conn, "own_far", s.clock.now)
    s.clock.advance(29)
    assert s.scheduler.reap() == 0
    s.clock.advance(2)  # 31 s without a beat: past POSTDODO_OWNER_TIMEOUT
    assert s.scheduler.reap() == 1
    assert s.rows()[held[0]].status == "retrying"


def test_an_owner_declared_dead_registers_again_and_its_attempts_stand_down(url: str) -> None:
    s = setup(url)
    s.post("bluesky")
    s.scheduler.tick()
    (_, target_id, attempt), = s.queue.jobs
    held = s.runtime.leases.hold("publish", target_id, attempt)
    assert held is not None
    with s.api.db.write() as conn:  # a successor took this process for dead
        owners.remove(conn, s.runtime.leases.owner)
        work.take_back(conn, targets, "publishing", s.clock.now, 10, to="retrying", owners=[s.runtime.leases.owner])
    assert s.runtime.leases.renew() == 1 and held.lost.is_set()
    with s.api.db.read() as conn:
        assert conn.execute(select(lease_owners.c.id)).scalars().all() == [s.runtime.leases.owner]


def test_follow_up_jobs_hold_their_lease_in_a_worker(url: str) -> None:
    """A worker runs a first comment and a delete (their target stays confirmed/unpublishing) under the lease."""
    s = setup(url)
    account = s.api.sandbox_account(s.key, "mastodon")["id"]
    created = s.api.call("POST", "/v1/posts", s.key, json={"caption": "lease", "account_ids": [account],
                                                            "first_comment": "below"})
    post_id = created.get_json()["id"]
    outcomes = []
    for step in ("publish", "comment", "unpublish"):
        if step == "unpublish":
            assert s.api.call("POST", f"/v1/posts/{post_id}/unpublish", s.key).status_code == 202
        s.queue.jobs.clear()
        assert s.scheduler.tick() == 1
        (_, target_id, attempt), = s.queue.jobs
        s.clock.advance(50)  # waited in the queue for most of the lease: the job's own hold renews it
        outcomes.append(s.runtime.publish(target_id, attempt))
    assert outcomes == ["confirmed", "published", "unpublished"]
    assert s.rows()[target_id].lease_until is None and s.published() == Counter()
