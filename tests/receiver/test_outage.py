"""Redis outages: a fast 503 with Retry-After, nothing acknowledged, and recovery on restart."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver import create_app
from receiver.queue import fast_fail_redis
from tests.receiver.helpers import PATH, SECRET, RedisServer, free_port, make_event, queue_length, signed


@pytest.fixture
def own_redis(tmp_path: Path, redis_server: RedisServer) -> Iterator[RedisServer]:
    """A redis-server this test may stop and restart (the shared one stays up)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a hung Redis, not a dead one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # the kernel completes handshakes; nobody ever reads or writes
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


def test_redis_down_is_a_fast_503_then_202_after_restart(own_redis: RedisServer) -> None:
    client = create_app({"secrets": SECRET, "redis_url": own_redis.url}).test_client()
    warm = json.dumps(make_event("evt_warm")).encode()
    assert client.post(PATH, data=warm, headers=signed(warm, "evt_warm")).status_code == 202  # pool has a socket

    own_redis.stop()
    body = json.dumps(make_event("evt_outage")).encode()
    headers = signed(body, "evt_outage")  # the sender's one delivery, retried unchanged below
    started = time.perf_counter()
    response = client.post(PATH, data=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 503
    assert elapsed < 1.0
    assert response.headers["Retry-After"] == "30"
    assert response.json is not None and response.json["error"]["code"] == "queue_unavailable"
    health = client.get("/healthz")
    assert health.status_code == 503 and "Retry-After" in health.headers

    own_redis.start()  # same port, empty memory
    again = client.post(PATH, data=body, headers=headers)
    assert again.status_code == 202
    conn = own_redis.client()
    assert queue_length(conn) == 1
    assert client.get("/healthz").status_code == 200


def test_hung_redis_times_out_within_a_second(blackhole: str) -> None:
    client = create_app({"secrets": SECRET, "redis_url": blackhole}).test_client()
    body = json.dumps(make_event("evt_hung")).encode()
    for path in (PATH, "/healthz"):
        started = time.perf_counter()
        response = client.post(path, data=body, headers=signed(body, "evt_hung")) if path == PATH else client.get(path)
        elapsed = time.perf_counter() - started
        assert response.status_code == 503
        assert elapsed < 1.0, f"{path} took {elapsed:.2f} s"


def test_refused_port_fails_fast() -> None:
    client = create_app({"secrets": SECRET, "redis_url": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    body = json.dumps(make_event("evt_refused")).encode()
    started = time.perf_counter()
    assert client.post(PATH, data=body, headers=signed(body, "evt_refused")).status_code == 503
    assert time.perf_counter() - started < 1.0


def test_fast_fail_client_never_retries() -> None:
    # redis-py >= 6 defaults to several retries with backoff; the web client must have none.
    client = fast_fail_redis("redis://127.0.0.1:1/0", connect_timeout=0.25, socket_timeout=0.5)
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] == 0.25 and kwargs["socket_timeout"] == 0.5
    connection = client.connection_pool.make_connection()
    assert connection.retry.get_retries() == 0  # type: ignore[attr-defined]
