"""GET /healthz reports each dependency with its own status; 503 only when one this process needs fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from postdodo_connect.api import Service, create_app
from postdodo_connect.config import Settings
from postdodo_connect.storage import Database, Vault
from tests.engine.conftest import Engine, build_engine
from tests.support.factory import SECRET, Api, make_api
from tests.support.server import free_port


def dead_redis() -> str:
    """A Redis URL (with a password) where nothing listens: Redis is down."""
    return f"redis://:hunter2@127.0.0.1:{free_port()}/0"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[Engine]:
    """An engine on SQLite, then on PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'health.db'}" if request.param == "sqlite" else pg_url
    engine = build_engine(url)
    yield engine
    engine.api.db.dispose()


def test_redis_down_is_degraded_and_503_with_the_database_ok(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'h.db'}", redis_url=dead_redis())
    response = api.call("GET", "/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == {"status": "ok", "required": True}
    assert body["checks"]["redis"]["status"] == "error" and body["checks"]["redis"]["required"] is True
    assert "hunter2" not in response.get_data(as_text=True) and "redis://" not in response.get_data(as_text=True)


def test_redis_up_is_checked(tmp_path: Path, redis_url: str) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'h.db'}", redis_url=redis_url)
    response = api.call("GET", "/healthz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["redis"] == {"status": "ok", "required": True}


def test_database_down_is_down_and_503_without_its_url() -> None:
    url = f"postgresql+psycopg://postdodo:s3cret-pw@127.0.0.1:{free_port()}/postdodo"
    settings = Settings.from_env({}, database_url=url, secret_key=SECRET)
    app = create_app({"ACCESS_LOG": False}, service=Service(settings=settings, db=Database(url),
                                                            vault=Vault(SECRET)))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "down" and body["checks"]["database"]["status"] == "error"
    assert body["checks"]["engine"]["status"] == "unknown"
    assert "s3cret-pw" not in response.get_data(as_text=True)


def test_no_engine_yet_is_reported_missing_but_the_api_serves(api: Api) -> None:
    response = api.call("GET", "/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["engine"]["status"] == "missing" and body["checks"]["engine"]["required"] is False


def test_engine_heartbeat_fresh_then_stale(any_engine: Engine) -> None:
    engine = any_engine
    engine.tick()  # the scheduler's tick records its heartbeat
    fresh = engine.api.call("GET", "/healthz")
    assert fresh.status_code == 200
    assert fresh.get_json() == {"status": "ok", "checks": {
        "database": {"status": "ok", "required": True},
        "engine": {"status": "ok", "required": False, "age_seconds": 0.0}}}
    engine.clock.advance(300)  # the engine stopped ticking five minutes ago
    stale = engine.api.call("GET", "/healthz")
    assert stale.status_code == 200  # an engine outage must not take the API out of a load balancer
    body = stale.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["engine"]["status"] == "stale" and body["checks"]["engine"]["age_seconds"] == 300
