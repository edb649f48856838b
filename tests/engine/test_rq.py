"""Scaled mode: the RQ dispatcher with a real Redis and a real `postdodo worker`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from redis import Redis
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select, update

from postdodo_connect.engine import Runtime
from postdodo_connect.engine.dispatch import PUBLISH_QUEUE, RQDispatcher
from postdodo_connect.engine.scheduler import Scheduler
from postdodo_connect.storage import heartbeat
from postdodo_connect.storage.schema import sandbox_posts, targets
from tests.support import rq
from tests.support.factory import SECRET, make_api
from tests.support.rq import fresh_redis_db, idle_workers
from tests.support.server import wait_until


@pytest.fixture
def rq_url(redis_url: str) -> str:
    """A Redis database of its own, emptied."""
    return fresh_redis_db(redis_url, 9)


def run_worker(db_url: str, redis_url: str, **settings: str) -> None:
    rq.run_worker(database_url=db_url, redis_url=redis_url, secret_key=SECRET, **settings)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> str:
    return f"sqlite:///{tmp_path / 'rq.db'}" if request.param == "sqlite" else pg_url


def test_rq_end_to_end_and_redis_flush_loses_nothing(tmp_path: Path, rq_url: str) -> None:
    db_url = f"sqlite:///{tmp_path / 'rq.db'}"
    api = make_api(db_url, redis_url=rq_url, lease_seconds=0.5, rate_limit="1000/minute")
    runtime = Runtime(api.service.settings, api.db)
    dispatcher = RQDispatcher(rq_url, job_timeout=30)
    scheduler = Scheduler(api.db, dispatcher, runtime.clock, lease_seconds=0.5, tick_seconds=0.05, batch=100)
    key = api.new_key()
    accts = [api.sandbox_account(key, p)["id"] for p in ("bluesky", "mastodon", "x")]
    first = api.call("POST", "/v1/posts", key, json={"caption": "via rq", "account_ids": accts}).get_json()
    idle_workers(rq_url, 2)  # room for four jobs: two running, two waiting
    assert scheduler.tick() == 3
    redis = Redis.from_url(rq_url)
    assert redis.llen(f"rq:queue:{PUBLISH_QUEUE}") == 3
    run_worker(db_url, rq_url)
    done = api.call("GET", f"/v1/posts/{first['id']}", key).get_json()
    assert done["status"] == "published"
    assert all(t["permalink"] for t in done["targets"])

    lost = api.call("POST", "/v1/posts", key, json={"caption": "lost in redis", "account_ids": accts}).get_json()
    assert scheduler.tick() == 3
    redis.flushdb()  # Redis restarts empty: the jobs are gone, the database still knows
    wait_until(lambda: scheduler.reap() > 0, timeout=10, what="leases to expire")
    assert scheduler.tick() == 0  # the flush took the worker registry too: no worker, no claim
    idle_workers(rq_url, 2)
    assert scheduler.tick() == 3
    run_worker(db_url, rq_url)
    recovered = api.call("GET", f"/v1/posts/{lost['id']}", key).get_json()
    assert recovered["status"] == "published"
    with api.db.read() as conn:
        per_target = [r.reference for r in conn.execute(select(sandbox_posts.c.reference))]
        assert len(per_target) == len(set(per_target)) == 6
        assert conn.execute(select(targets.c.status).distinct()).scalars().all() == ["confirmed"]


def test_claims_follow_the_workers_and_never_age_in_redis(db_url: str, rq_url: str) -> None:
    api = make_api(db_url, redis_url=rq_url, lease_seconds=300.0, rate_limit="1000/minute")
    runtime = Runtime(api.service.settings, api.db)
    runtime.leases.stopped.set()
    runtime.leases.start("engine")
    dispatcher = runtime.make_dispatcher()
    scheduler = Scheduler(api.db, dispatcher, runtime.clock, lease_seconds=300.0, tick_seconds=0.05, batch=100,
                          leases=runtime.leases)
    key = api.new_key()
    accts = [api.sandbox_account(key, "mastodon", handle=f"m{i}")["id"] for i in range(10)]
    assert api.call("POST", "/v1/posts", key, json={"caption": "burst", "account_ids": accts}).status_code == 201

    assert scheduler.tick() == 0  # no worker: the burst waits in the database, due and visible
    idle_workers(rq_url, 1)
    assert scheduler.tick() == 2  # one running, one waiting
    assert scheduler.tick() == 0
    redis = Redis.from_url(rq_url)
    job_id = redis.lrange(f"rq:queue:{PUBLISH_QUEUE}", 0, 0)[0].decode()
    timeout = Job.fetch(job_id, connection=redis, serializer=JSONSerializer).timeout
    assert timeout is not None and 0 < timeout < 300  # RQ stops an attempt before its lease could run out
    idle_workers(rq_url, 2)
    assert scheduler.tick() == 4  # 3 workers x 2, less the 2 waiting
    with api.db.read() as conn:
        statuses = Counter(conn.execute(select(targets.c.status)).scalars())
        owners_seen = set(conn.execute(select(targets.c.lease_owner).where(targets.c.status == "publishing")).scalars())
    assert statuses == {"publishing": 6, "scheduled": 4} and owners_seen == {runtime.leases.owner}
    run_worker(db_url, rq_url)  # a real worker drains the six, then frees room for the rest
    assert scheduler.tick() == 4
    run_worker(db_url, rq_url)
    with api.db.read() as conn:
        assert conn.execute(select(targets.c.status).distinct()).scalars().all() == ["confirmed"]
        assert len(conn.execute(select(sandbox_posts.c.reference)).all()) == 10
    api.db.dispose()


def test_a_hung_attempt_is_stopped_by_the_job_timeout_and_retried_long_before_the_lease(
        db_url: str, rq_url: str) -> None:
    api = make_api(db_url, redis_url=rq_url, lease_seconds=3600.0, rate_limit="1000/minute")
    # long enough for the job to reach the platform call on a loaded box (killed before it, the attempt is a
    # plain `interrupted` retry, another test's subject), far below the hour-long lease
    dispatcher = RQDispatcher(rq_url, job_timeout=5)
    scheduler = Scheduler(api.db, dispatcher, Runtime(api.service.settings, api.db).clock, lease_seconds=3600.0,
                          tick_seconds=0.05, batch=100)
    key = api.new_key()
    post = api.call("POST", "/v1/posts", key, json={"caption": "hangs", "account_ids": [
        api.sandbox_account(key, "bluesky")["id"]]}).get_json()
    idle_workers(rq_url, 1)
    assert scheduler.tick() == 1
    run_worker(db_url, rq_url, sandbox_faults='{"latency_ms": 60000}')  # the platform hangs for a minute
    target = api.call("GET", f"/v1/posts/{post['id']}", key).get_json()["targets"][0]
    assert target["status"] == "retrying" and target["attempts"] == 1  # free again, not leased for an hour
    assert target["error"]["code"] in {"outcome_unknown", "lease_expired"}  # so the next attempt looks first
    with api.db.read() as conn:
        assert conn.execute(select(targets.c.lease_until)).scalar_one() is None
        conn.execute(update(targets).values(next_attempt_at=targets.c.updated_at))  # skip the retry delay
    assert scheduler.tick() == 1
    run_worker(db_url, rq_url)
    with api.db.read() as conn:
        assert conn.execute(select(targets.c.status)).scalar_one() == "confirmed"
        assert len(conn.execute(select(sandbox_posts.c.reference)).all()) == 1
    api.db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_redis_down_is_said_once_and_the_post_waits(tmp_path: Path, pg_url: str, backend: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    from tests.support.databases import scratch_database
    from tests.support.server import free_port

    dead = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    with scratch_database(pg_url, "rqdown") as pg:
        db_url = f"sqlite:///{tmp_path / 'down.db'}" if backend == "sqlite" else pg
        api = make_api(db_url, redis_url=dead, rate_limit="1000/minute")
        scheduler = Scheduler(api.db, RQDispatcher(dead), Runtime(api.service.settings, api.db).clock,
                              lease_seconds=60, tick_seconds=0.05, batch=100)
        key = api.new_key()
        acct = api.sandbox_account(key, "bluesky")["id"]
        post = api.call("POST", "/v1/posts", key, json={"caption": "redis is down", "account_ids": [acct]}).get_json()
        with caplog.at_level("INFO", logger="postdodo.scheduler"):
            assert [scheduler.safe_tick() for _ in range(3)] == [False, False, False]
        said = [r for r in caplog.records if r.name == "postdodo.scheduler"]
        assert len(said) == 1 and said[0].levelname == "WARNING" and said[0].exc_info is None
        assert "Redis unreachable (ConnectionError)" in said[0].getMessage() and "hunter2" not in caplog.text
        with api.db.read() as conn:
            assert heartbeat.last(conn) is not None  # the engine still says it is alive
        target = api.call("GET", f"/v1/posts/{post['id']}", key).get_json()["targets"][0]
        assert (target["status"], target["attempts"]) == ("scheduled", 0)  # unclaimed at once, nothing spent
        api.db.dispose()
