"""Scaled-mode helpers: an emptied Redis database of a test's own, and a real `postdodo worker --burst`."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from redis import Redis


def fresh_redis_db(redis_url: str, db: int) -> str:
    """The URL of Redis database `db` (counted from the test Redis URL's own) emptied; fails clearly when Redis is down."""
    base, _, own = redis_url.rpartition("/")
    # offset from the configured database, so runs pointed at different databases never flush each other's
    url = f"{base}/{(int(own or 0) + db) % 16}"
    try:
        Redis.from_url(url, socket_connect_timeout=1).flushdb()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis at {url} is not reachable ({exc}); .ci/run starts one")
    return url


def run_worker(*args: str, env: dict[str, str] | None = None, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run `postdodo worker --burst` (the default, non-forking worker) with these POSTDODO_* settings until the queues are empty."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")} | (env or {})
    full |= {f"POSTDODO_{name.upper()}": value for name, value in settings.items()}
    done = subprocess.run([sys.executable, "-m", "postdodo_connect", "worker", "--burst", *args], env=full,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def idle_workers(redis_url: str, count: int = 1) -> list[Any]:
    """Register `count` RQ workers that take no job: capacity the engine sees without anything consuming."""
    from rq import Worker
    from rq.serializers import JSONSerializer

    from postdodo_connect.engine.dispatch import PUBLISH_QUEUE, WEBHOOK_QUEUE

    found = []
    for _ in range(count):
        worker = Worker([PUBLISH_QUEUE, WEBHOOK_QUEUE], connection=Redis.from_url(redis_url), serializer=JSONSerializer)
        worker.register_birth()
        found.append(worker)
    return found
