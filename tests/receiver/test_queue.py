"""The enqueue layer: job ids, and the single-round-trip path writing what rq itself writes."""

from __future__ import annotations

import re

from redis import Redis

from receiver.config import load_settings
from receiver.queue import JOB_ID_PREFIX, Outcome, RedisEventQueue, fast_fail_redis, job_id_for
from receiver.routes import parse_routes
from tests.receiver.helpers import SECRET, RedisServer, make_event, queue_length


def test_job_id_is_a_valid_fixed_length_hash() -> None:
    for event_id in ("evt_1", "msg.with.dots", "a:b", "x" * 256, "évt", ""):
        job_id = job_id_for(event_id)
        assert re.fullmatch(r"pdevt_[0-9a-f]{40}", job_id)
    assert job_id_for("evt_1") == job_id_for("evt_1") != job_id_for("evt_2")
    assert job_id_for("evt_1").startswith(JOB_ID_PREFIX)


def _hash(conn: Redis, job_id: str) -> dict[bytes, bytes]:
    """A job hash without the fields that differ between two enqueues anyway."""
    raw: dict[bytes, bytes] = conn.hgetall(f"rq:job:{job_id}")  # type: ignore[assignment]
    for volatile in (b"created_at", b"enqueued_at", b"description"):
        raw.pop(volatile, None)
    return raw


def test_single_round_trip_writes_the_same_job_as_rq(redis_server: RedisServer, rconn: Redis) -> None:
    settings = load_settings({"secrets": SECRET, "redis_url": redis_server.url})
    route = parse_routes("post.published=tests.receiver.jobs:record")["post.published"]
    fast = RedisEventQueue(fast_fail_redis(redis_server.url), settings, [route.queue])
    reference = RedisEventQueue(fast_fail_redis(redis_server.url), settings, [route.queue], single_round_trip=False)
    event = make_event("evt_same")
    assert fast.enqueue(route, event, "evt_fast") == (Outcome.ENQUEUED, job_id_for("evt_fast"))
    assert reference.enqueue(route, event, "evt_ref") == (Outcome.ENQUEUED, job_id_for("evt_ref"))
    fast_hash, ref_hash = _hash(rconn, job_id_for("evt_fast")), _hash(rconn, job_id_for("evt_ref"))
    assert fast_hash == ref_hash
    assert rconn.ttl(f"rq:job:{job_id_for('evt_fast')}") == -1  # a queued job never expires
    assert queue_length(rconn) == 2
    assert rconn.sismember("rq:queues", "rq:queue:postdodo-events")
    # both paths refuse a duplicate the same way
    assert fast.enqueue(route, event, "evt_ref")[0] is Outcome.DUPLICATE
    assert reference.enqueue(route, event, "evt_fast")[0] is Outcome.DUPLICATE
    assert queue_length(rconn) == 2
