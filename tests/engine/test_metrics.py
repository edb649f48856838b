"""Engine metrics on /metrics: publish outcomes per platform, and the targets due, late and claimed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.conftest import Engine, build_engine
from tests.support.metrics import sample, scrape


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[Engine]:
    """An engine on SQLite, then on PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'ops.db'}" if request.param == "sqlite" else pg_url
    engine = build_engine(url)
    yield engine
    engine.api.db.dispose()


def test_published_sandbox_post_counts_for_its_platform(any_engine: Engine) -> None:
    engine = any_engine
    key = engine.api.new_key()
    account = engine.api.sandbox_account(key, "mastodon")
    labels = {"platform": "mastodon", "outcome": "confirmed"}
    before = scrape(engine.api.client())
    post = engine.post(key, [account["id"]])
    engine.tick()
    assert engine.get(key, post["id"])["status"] == "published"
    after = scrape(engine.api.client())
    assert sample(after, "postdodo_publish_attempts_total", **labels) == sample(
        before, "postdodo_publish_attempts_total", **labels) + 1
    assert sample(after, "postdodo_publish_duration_seconds_count", platform="mastodon") == sample(
        before, "postdodo_publish_duration_seconds_count", platform="mastodon") + 1


def test_targets_due_late_and_claimed(any_engine: Engine) -> None:
    engine = any_engine
    key = engine.api.new_key()
    account = engine.api.sandbox_account(key, "bluesky")
    engine.post(key, [account["id"]])
    now = scrape(engine.api.client())
    assert (sample(now, "postdodo_targets_due"), sample(now, "postdodo_targets_late")) == (1, 0)
    engine.clock.advance(120)  # nobody claimed it for two minutes: the engine is behind
    assert sample(scrape(engine.api.client()), "postdodo_targets_late") == 1
    engine.dispatcher.drop = True  # claimed by a worker that never finishes
    engine.tick()
    held = scrape(engine.api.client())
    assert (sample(held, "postdodo_targets_due"), sample(held, "postdodo_targets_claimed")) == (0, 1)
    assert sample(held, "postdodo_engine_heartbeat_age_seconds") == 0
    engine.clock.advance(90)
    assert sample(scrape(engine.api.client()), "postdodo_engine_heartbeat_age_seconds") == 90


def test_queue_depth_in_scaled_mode(tmp_path: Path, redis_url: str) -> None:
    from redis import Redis

    from postdodo_connect.engine.dispatch import PUBLISH_QUEUE, WEBHOOK_QUEUE, RQDispatcher
    from tests.support.factory import make_api

    redis = Redis.from_url(redis_url)
    queues = [f"rq:queue:{PUBLISH_QUEUE}", f"rq:queue:{WEBHOOK_QUEUE}"]
    redis.delete(*queues)
    api = make_api(f"sqlite:///{tmp_path / 'scaled.db'}", redis_url=redis_url)
    dispatcher = RQDispatcher(redis_url)
    try:
        dispatcher.submit("publish", [("tgt_a", 1), ("tgt_b", 1)])  # what the engine enqueues for RQ workers
        dispatcher.submit("deliver", [("dlv_a", 1)])
        text = scrape(api.client())
        assert sample(text, "postdodo_queue_depth", queue=PUBLISH_QUEUE) == 2
        assert sample(text, "postdodo_queue_depth", queue=WEBHOOK_QUEUE) == 1
    finally:
        redis.delete(*queues, *(key for key in redis.scan_iter("rq:job:*_*")))
        dispatcher.close()
