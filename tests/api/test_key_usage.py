"""Settings → API shows when each key was last used: recorded by the API, cheaply."""

from __future__ import annotations

from pathlib import Path

from postdodo_connect.storage import keys as keys_store
from tests.support.factory import FakeClock, make_api


def test_a_keys_last_use_is_recorded_at_most_once_a_minute(tmp_path: Path) -> None:
    clock = FakeClock()
    api = make_api(f"sqlite:///{tmp_path / 'api.db'}", clock=clock)
    key = api.new_key("main")

    def last_used() -> object:
        with api.db.read() as conn:
            return keys_store.list_keys(conn)[0]["last_used_at"]

    assert last_used() is None
    first = clock.now
    assert api.call("GET", "/v1/accounts", key).status_code == 200
    assert last_used() == first
    clock.advance(59)
    assert api.call("GET", "/v1/accounts", key).status_code == 200
    assert last_used() == first  # within the minute: no write
    clock.advance(2)
    assert api.call("GET", "/v1/accounts", key).status_code == 200
    assert last_used() == clock.now
