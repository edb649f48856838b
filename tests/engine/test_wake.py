"""The API wakes an engine in another process: a publish-now post is claimed long before the next tick."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import select

from postdodo_connect.api import create_app
from postdodo_connect.config import Settings
from postdodo_connect.engine import Runtime, wake
from postdodo_connect.engine.dispatch import PUBLISH_QUEUE
from postdodo_connect.engine.scheduler import Scheduler
from postdodo_connect.storage.schema import targets
from tests.support.factory import SECRET, make_api
from tests.support.rq import idle_workers
from tests.support.server import wait_until

SLOW_TICK = 60.0  # far beyond the waits below: only a wake-up can explain a claim


def test_a_ring_reaches_the_listener_through_a_socket_beside_the_database(tmp_path: Path) -> None:
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'p.db'}")
    woke = threading.Event()
    listener = wake.listen(settings, woke.set)
    assert (tmp_path / "p.db.wake").exists()
    wake.bell(settings).ring()
    assert woke.wait(5)
    listener.close()
    assert not (tmp_path / "p.db.wake").exists()
    wake.bell(settings).ring()  # nobody listening: no error


def test_a_ring_reaches_the_listener_through_redis(redis_url: str) -> None:
    settings = Settings.from_env({}, database_url="sqlite:///unused.db", redis_url=redis_url)
    woke = threading.Event()
    listener = wake.listen(settings, woke.set)
    try:
        wake.bell(settings).ring()
        assert woke.wait(5)
    finally:
        listener.close()


def test_a_dead_redis_never_fails_the_ring() -> None:
    settings = Settings.from_env({}, redis_url="redis://127.0.0.1:1/0")
    bell = wake.bell(settings)
    bell.ring()
    bell.ring()  # quiet for a while after a failure: no second connect attempt


def test_socket_paths_stay_short_and_never_carry_a_password() -> None:
    long_dir = "/" + "d" * 120
    path = wake.socket_path(f"sqlite:///{long_dir}/postdodo.db")
    assert path.startswith(tempfile.gettempdir()) and len(path) < 100
    pg = wake.socket_path("postgresql+psycopg://user:hunter2@db/postdodo")
    assert "hunter2" not in pg and pg.startswith(tempfile.gettempdir())
    assert pg == wake.socket_path("postgresql+psycopg://user:hunter2@db/postdodo")


@pytest.fixture(params=["embedded", "scaled"])
def mode(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str, redis_url: str) -> Iterator[dict[str, str]]:
    """Environment of an API process: SQLite and no Redis, or PostgreSQL and Redis."""
    if request.param == "embedded":
        yield {"POSTDODO_DATABASE_URL": f"sqlite:///{tmp_path / 'wake.db'}"}
        return
    worker, = idle_workers(redis_url)  # the engine claims only what RQ workers can take
    yield {"POSTDODO_DATABASE_URL": pg_url, "POSTDODO_REDIS_URL": redis_url}
    from redis import Redis

    worker.register_death()
    Queue(PUBLISH_QUEUE, connection=Redis.from_url(redis_url)).delete(delete_jobs=True)


def test_publish_now_wakes_an_engine_that_only_shares_the_database(
    mode: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = mode["POSTDODO_DATABASE_URL"]
    seed = make_api(url)  # fresh tables, a workspace and an account
    key = seed.new_key("wake")
    account = seed.sandbox_account(key)["id"]
    for name, value in (mode | {"POSTDODO_SECRET_KEY": SECRET, "POSTDODO_TICK_SECONDS": str(SLOW_TICK)}).items():
        monkeypatch.setenv(name, value)
    ticks: list[int] = []
    tick = Scheduler.tick
    monkeypatch.setattr(Scheduler, "tick", lambda self: ticks.append(tick(self)) or ticks[-1])
    runtime = Runtime(Settings.from_env())  # the engine: its own Database, as in its own process
    runtime.start()
    try:
        wait_until(lambda: ticks, what="the engine's first tick")  # the next one is a minute away
        api = create_app({"ACCESS_LOG": False, "TESTING": True})  # as gunicorn builds it: nothing injected
        response = api.test_client().post("/v1/posts", json={"caption": "now", "account_ids": [account]},
                                          headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 201

        def claimed() -> bool:
            with seed.db.read() as conn:
                status = conn.execute(select(targets.c.status)).scalar_one()
            return status != "scheduled"

        wait_until(claimed, timeout=SLOW_TICK / 4, what="the engine to claim the publish-now target")
    finally:
        runtime.stop(grace=5)
        seed.db.dispose()
