"""Scaled-mode helpers: an emptied Redis database of a test's own, and a real `postdodo worker --burst`."""

from __future__ import annotations

import os
import subprocess
import sys

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


def run_worker(**settings: str) -> None:
    """Run `postdodo worker --burst` (the default, non-forking worker) with these POSTDODO_* settings until the queues are empty."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    env |= {f"POSTDODO_{name.upper()}": value for name, value in settings.items()}
    done = subprocess.run([sys.executable, "-m", "postdodo_connect", "worker", "--burst"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
