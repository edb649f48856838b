"""Scaled mode: deliveries go through the RQ queue and a real `postdodo worker`, one attempt per job."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from redis import Redis

from postdodo_connect import signing
from postdodo_connect.engine.dispatch import WEBHOOK_QUEUE, RQDispatcher
from postdodo_connect.engine.scheduler import Scheduler
from tests.support import rq
from tests.support.rq import fresh_redis_db, idle_workers

from .conftest import SECRET_KEY, Env, Receiver, Reply

pytestmark = pytest.mark.slow


@pytest.fixture
def rq_url(redis_url: str) -> str:
    """A Redis database of its own, emptied."""
    return fresh_redis_db(redis_url, 11)


def run_worker(env: Env, redis_url: str) -> None:
    rq.run_worker(database_url=env.db.url, redis_url=redis_url, secret_key=SECRET_KEY, webhook_allow_private="1")


def test_deliveries_run_as_rq_jobs(make_env: Callable[..., Env], receiver: Receiver, rq_url: str) -> None:
    env = make_env(redis_url=rq_url)
    scheduler = Scheduler(env.db, RQDispatcher(rq_url), env.clock, lease_seconds=300, tick_seconds=0.5, batch=100)
    receiver.script = [Reply(500)]
    endpoint = env.webhook(receiver.url)
    first, second = env.emit(), env.emit()
    idle_workers(rq_url)  # room for two jobs: the engine claims only what RQ workers can take
    assert scheduler.tick() == 2
    assert Redis.from_url(rq_url).llen(f"rq:queue:{WEBHOOK_QUEUE}") == 2
    run_worker(env, rq_url)
    rows = {r["event_id"]: r for r in env.delivery_rows(endpoint["id"])}
    assert sorted(r["status"] for r in rows.values()) == ["delivered", "pending"]
    assert all(r["attempts"] == 1 for r in rows.values())  # one attempt per job
    for hit in receiver.hits:
        assert signing.verify(endpoint["secret"], hit.headers, hit.body).event_id in {first["id"], second["id"]}
    # the failed one comes due again and goes through the queue once more, same event id
    env.clock.set(min(r["next_attempt_at"] for r in rows.values() if r["status"] == "pending"))
    assert scheduler.tick() == 1
    run_worker(env, rq_url)
    assert {r["status"] for r in env.delivery_rows(endpoint["id"])} == {"delivered"}
    ids = [h.json()["id"] for h in receiver.hits]
    assert len(ids) == 3 and ids[-1] == ids[0] and set(ids) == {first["id"], second["id"]}  # 500, 200, retry
