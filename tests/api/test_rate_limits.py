"""Per-key rate limits with headers on every response."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.factory import make_api
from tests.support.server import free_port


def test_headers_and_429(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'rl.db'}", rate_limit="3/minute")
    key, other = api.new_key("a"), api.new_key("b")
    first = api.call("GET", "/v1/accounts", key)
    assert first.headers["RateLimit-Limit"] == "3" and first.headers["X-RateLimit-Limit"] == "3"
    assert first.headers["RateLimit-Remaining"] == "2"
    assert 0 <= int(first.headers["RateLimit-Reset"]) <= 60
    assert "Retry-After" not in first.headers
    api.call("GET", "/v1/accounts", key)
    api.call("GET", "/v1/accounts", key)
    limited = api.call("GET", "/v1/accounts", key)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert api.call("GET", "/v1/accounts", other).status_code == 200  # per key, not global
    assert api.call("GET", "/healthz").status_code == 200  # health checks are never limited


def test_redis_down_keeps_limits_per_process_and_says_so_once(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'rl.db'}", rate_limit="2/minute",
                   redis_url=f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    key = api.new_key("a")
    with caplog.at_level(logging.WARNING):
        codes = [api.call("GET", "/v1/accounts", key).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # not silently unlimited
    switched = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(switched) == 1 and not any("hunter2" in r.getMessage() for r in caplog.records)
    redis = api.call("GET", "/healthz").get_json()["checks"]["redis"]
    assert redis["status"] == "error" and "rate limits count per process" in redis["error"]
