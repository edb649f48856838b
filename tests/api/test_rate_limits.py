"""Per-key rate limits with headers on every response."""

from __future__ import annotations

from pathlib import Path

from tests.support.factory import make_api


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
