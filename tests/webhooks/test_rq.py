"""Scaled mode: deliveries go through the RQ queue and a real `postdodo worker`, one attempt per job."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from redis import Redis

from postdodo_connect import signing
from postdodo_connect.engine.dispatch import WEBHOOK_QUEUE, RQDispatcher
from postdodo_connect.engine.scheduler import Scheduler

from .conftest import SECRET_KEY, Env, Receiver, Reply

pytestmark = pytest.mark.slow


@pytest.fixture
def rq_url(redis_url: str) -> str:
    """A Redis database of its own, emptied."""
    url = redis_url.rsplit("/", 1)[0] + "/11"
    try:
        Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis at {url} is not reachable ({exc})")
    return url


def run_worker(env: Env, redis_url: str) -> None:
    variables = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    variables |= {"POSTDODO_DATABASE_URL": env.db.url, "POSTDODO_REDIS_URL": redis_url,
                  "POSTDODO_SECRET_KEY": SECRET_KEY, "POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1"}
    done = subprocess.run([sys.executable, "-m", "postdodo_connect", "worker", "--burst", "--simple"],
                          env=variables, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_deliveries_run_as_rq_jobs(make_env: Callable[..., Env], receiver: Receiver, rq_url: str) -> None:
    env = make_env(redis_url=rq_url)
    scheduler = Scheduler(env.db, RQDispatcher(rq_url), env.clock, lease_seconds=300, tick_seconds=0.5, batch=100)
    receiver.script = [Reply(500)]
    endpoint = env.webhook(receiver.url)
    first, second = env.emit(), env.emit()
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
