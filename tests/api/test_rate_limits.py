"""Rate limits: per key with headers on every /v1 answer, per address for unauthenticated calls, Redis-shared."""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any

import pytest

from postdodo_connect.api import Service, create_app
from postdodo_connect.errors import ConfigurationError
from postdodo_connect.storage import keys as keys_store
from tests.support.factory import Api, make_api
from tests.support.server import free_port


def _address() -> str:
    # a fresh client address per test: counters in the shared Redis outlive a test run
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def _from(api: Api, address: str, path: str = "/v1/accounts", key: str | None = None) -> Any:
    return api.call("GET", path, key, environ_base={"REMOTE_ADDR": address})


def _count_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every key lookup (hash + read) the API makes."""
    seen: list[str] = []
    real = keys_store.authenticate

    def counting(conn: Any, key: str) -> Any:
        seen.append(key)
        return real(conn, key)

    monkeypatch.setattr(keys_store, "authenticate", counting)
    return seen


def test_headers_and_429(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'rl.db'}", rate_limit="3/minute")
    key, other = api.new_key("a"), api.new_key("b")
    first = api.call("GET", "/v1/accounts", key)
    assert first.headers["RateLimit-Limit"] == "3" and first.headers["X-RateLimit-Limit"] == "3"
    assert first.headers["RateLimit-Remaining"] == "2" and first.headers["X-RateLimit-Remaining"] == "2"
    assert 0 <= int(first.headers["RateLimit-Reset"]) <= 60
    assert abs(int(first.headers["X-RateLimit-Reset"]) - time.time() - int(first.headers["RateLimit-Reset"])) <= 2
    assert "Retry-After" not in first.headers
    api.call("GET", "/v1/accounts", key)
    api.call("GET", "/v1/accounts", key)
    limited = api.call("GET", "/v1/accounts", key)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert api.call("GET", "/v1/posts", key).status_code == 429  # one budget per key, every route
    assert api.call("GET", "/v1/accounts", other).status_code == 200  # per key, not global
    health = api.call("GET", "/healthz")
    assert health.status_code == 200 and "RateLimit-Limit" not in health.headers  # never limited


def test_errors_carry_the_headers_too(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'rl.db'}", rate_limit="5/minute")
    key = api.new_key()
    missing = api.call("GET", "/v1/posts/post_nope", key)
    assert missing.status_code == 404 and missing.headers["RateLimit-Remaining"] == "4"
    invalid = api.call("POST", "/v1/posts", key, json={"caption": "x"})
    assert invalid.status_code == 400 and invalid.headers["RateLimit-Remaining"] == "3"


def test_invalid_key_flood_is_limited_before_the_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'rl.db'}", rate_limit_anonymous="5/minute")
    lookups = _count_lookups(monkeypatch)
    flood = _address()
    answers = [_from(api, flood, key=f"pd_live_wrong{i}") for i in range(20)]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 15
    assert len(lookups) == 5  # past the limit, a wrong key costs no hash and no read
    limited = answers[-1]
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["RateLimit-Limit"] == "5" and limited.headers["RateLimit-Remaining"] == "0"
    assert answers[0].headers["RateLimit-Remaining"] == "4"  # a 401 says how many tries are left
    # requests with no key at all count against the same budget
    assert _from(api, flood).status_code == 429


def test_valid_keys_elsewhere_are_unaffected_by_a_flood(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'rl.db'}", rate_limit="100/minute", rate_limit_anonymous="3/minute")
    key = api.new_key()
    flood, honest = _address(), _address()
    for _ in range(10):
        _from(api, flood, key="pd_live_wrong")
    ok = _from(api, honest, key=key)
    assert ok.status_code == 200 and ok.headers["RateLimit-Limit"] == "100"
    # the flooding address is refused before its key is even read, valid or not, until its window ends
    assert _from(api, flood, key=key).status_code == 429
    # the public OpenAPI document counts as unauthenticated
    assert _from(api, honest, "/v1/openapi.json").headers["RateLimit-Limit"] == "3"


def test_limits_are_shared_through_redis(tmp_path: Path, redis_url: str) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'rl.db'}", redis_url=redis_url, rate_limit="4/minute",
                   rate_limit_anonymous="3/minute")
    # a second app on the same database and Redis: another process of the same deployment
    twin = create_app({"ACCESS_LOG": False, "TESTING": True},
                      service=Service(settings=api.service.settings, db=api.db, vault=api.service.vault))
    other = Api(twin, api.service)
    key = api.new_key()
    address = _address()
    codes = [(api if i % 2 else other).call("GET", "/v1/accounts", key).status_code for i in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    assert [(api if i % 2 else other).call("GET", "/v1/accounts", "pd_live_bad",
                                           environ_base={"REMOTE_ADDR": address}).status_code
            for i in range(4)] == [401, 401, 401, 429]


def test_redis_down_still_serves(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    down = f"redis://:hunter2@127.0.0.1:{free_port()}/0"  # nothing listens there
    api = make_api(f"sqlite:///{tmp_path / 'rl.db'}", redis_url=down, rate_limit="3/minute")
    key = api.new_key()
    with caplog.at_level(logging.INFO, logger="postdodo.api"):
        codes = [api.call("GET", "/v1/accounts", key).status_code for _ in range(4)]
    # served, and still limited: each process counts on its own until Redis is back
    assert codes == [200, 200, 200, 429]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "rate limit store unreachable" in warnings[0].getMessage()
    assert "hunter2" not in caplog.text


def test_a_malformed_limit_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="POSTDODO_RATE_LIMIT_ANONYMOUS"):
        make_api(f"sqlite:///{tmp_path / 'rl.db'}", rate_limit_anonymous="lots")
