"""`postdodo worker` as documented: one runtime for all its jobs, so caches and metrics live as long as it does."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import select

from postdodo_connect.engine import Runtime
from postdodo_connect.engine.scheduler import Scheduler
from postdodo_connect.platforms.bluesky import forget_sessions
from postdodo_connect.storage.schema import lease_owners, targets
from tests.support import rq
from tests.support.bluesky_stub import bluesky_stub
from tests.support.factory import SECRET, make_api
from tests.support.metrics import sample
from tests.support.rq import fresh_redis_db, idle_workers


@pytest.fixture
def rq_url(redis_url: str) -> str:
    return fresh_redis_db(redis_url, 10)


def test_the_default_worker_logs_in_to_bluesky_once_and_counts_in_one_file(
        tmp_path: Path, rq_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTDODO_WEBHOOK_ALLOW_PRIVATE", "1")  # the stub PDS listens on 127.0.0.1
    db_url = f"sqlite:///{tmp_path / 'worker.db'}"
    api = make_api(db_url, redis_url=rq_url, rate_limit="1000/minute")
    scheduler = Scheduler(api.db, Runtime(api.service.settings, api.db).make_dispatcher(), api.service.clock,
                          lease_seconds=300.0, tick_seconds=0.05, batch=100)
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    with bluesky_stub() as pds:
        key = api.new_key("live", test=False)
        forget_sessions()
        connected = api.call("POST", "/v1/accounts", key, json={"platform": "bluesky", "credentials": {
            "identifier": "shop.bsky.social", "app_password": "abcd-efgh-ijkl-mnop", "service": pds.url}})
        assert connected.status_code == 201, connected.get_json()
        logins_at_connect = pds.logins
        for i in range(3):
            response = api.call("POST", "/v1/posts", key, json={"caption": f"post {i}",
                                                                "account_ids": [connected.get_json()["id"]]})
            assert response.status_code == 201
        idle_workers(rq_url, 2)
        assert scheduler.tick() == 3
        rq.run_worker(database_url=db_url, redis_url=rq_url, secret_key=SECRET,
                      env={"POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1", "PROMETHEUS_MULTIPROC_DIR": str(metrics)})
        assert pds.logins - logins_at_connect == 1  # three posts, one login: the session outlived each job
        assert sum(pds.created.values()) == 3
    with api.db.read() as conn:
        assert conn.execute(select(targets.c.status).distinct()).scalars().all() == ["confirmed"]
        assert conn.execute(select(lease_owners.c.id)).all() == []  # it unregistered on its way out
    pids = {m.group(1) for path in glob.glob(str(metrics / "*.db")) if (m := re.search(r"_(\d+)\.db$", path))}
    assert len(pids) == 1  # one process: not one more metrics file per job
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics))
    text = generate_latest(registry).decode()
    assert sample(text, "postdodo_publish_attempts_total", platform="bluesky", outcome="confirmed") == 3
    api.db.dispose()
