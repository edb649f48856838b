"""Fixtures shared by every suite: databases, a running `postdodo serve`, the Flask app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import STARTED, Server, start_server

PG_URL = os.environ.get("POSTDODO_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("POSTDODO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL the tests use (POSTDODO_TEST_DATABASE_URL)."""
    return PG_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the tests use (POSTDODO_TEST_REDIS_URL)."""
    return REDIS_URL


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`postdodo serve` on a fresh SQLite file with the demo workspace; `.key` is its pd_test_ key."""
    workdir: Path = tmp_path_factory.mktemp("serve")
    server = start_server(workdir, extra_env={"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1",
                                              "POSTDODO_RATE_LIMIT": "100000/minute"})
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_server_outlives_its_test() -> Iterator[None]:
    """A test that fails before its `server.stop()` must not leave `postdodo serve` running for hours."""
    before = set(map(id, STARTED))  # module-scoped servers are already up: they stay
    yield
    for server in [s for s in STARTED if id(s) not in before]:
        if server.process.poll() is None:
            server.stop(kill=True)
        STARTED.remove(server)
