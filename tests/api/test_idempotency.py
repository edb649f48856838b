"""Idempotency-Key: replay, conflict, and one post under concurrent duplicates."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from postdodo_connect.api import idempotency as api_idempotency
from postdodo_connect.storage import idempotency
from postdodo_connect.storage import keys as keys_store
from tests.support.factory import Api, FakeClock, make_api


def test_replay_returns_first_response(api: Api, key: str) -> None:
    acct = api.sandbox_account(key)
    body = {"caption": "once", "account_ids": [acct["id"]], "scheduled_at": "2099-01-01T00:00:00Z"}
    first = api.call("POST", "/v1/posts", key, json=body, headers={"Idempotency-Key": "k-1"})
    second = api.call("POST", "/v1/posts", key, json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(api.call("GET", "/v1/posts", key).get_json()["data"]) == 1


def test_same_key_other_body_is_409(api: Api, key: str) -> None:
    acct = api.sandbox_account(key)
    body = {"caption": "a", "account_ids": [acct["id"]], "scheduled_at": "2099-01-01T00:00:00Z"}
    api.call("POST", "/v1/posts", key, json=body, headers={"Idempotency-Key": "k-2"})
    other = api.call("POST", "/v1/posts", key, json=body | {"caption": "b"}, headers={"Idempotency-Key": "k-2"})
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "idempotency_conflict"
    assert len(api.call("GET", "/v1/posts", key).get_json()["data"]) == 1


def test_keys_are_scoped_per_workspace_and_errors_replay(api: Api, key: str) -> None:
    other = api.new_key("other")
    bad = {"caption": "x", "account_ids": ["acct_missing"]}
    first = api.call("POST", "/v1/posts", key, json=bad, headers={"Idempotency-Key": "shared"})
    again = api.call("POST", "/v1/posts", key, json=bad, headers={"Idempotency-Key": "shared"})
    assert first.status_code == again.status_code == 400
    assert again.headers["Idempotent-Replayed"] == "true"
    elsewhere = api.call("POST", "/v1/posts", other, json=bad, headers={"Idempotency-Key": "shared"})
    assert "Idempotent-Replayed" not in elsewhere.headers


def test_concurrent_duplicates_create_one_post(api: Api, key: str) -> None:
    acct = api.sandbox_account(key)
    body = {"caption": "race", "account_ids": [acct["id"]], "scheduled_at": "2099-01-01T00:00:00Z"}
    results: list[tuple[int, str]] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        response = api.call("POST", "/v1/posts", key, json=body, headers={"Idempotency-Key": "race-key"})
        results.append((response.status_code, response.get_json()["id"]))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {status for status, _ in results} == {201}
    assert len({post_id for _, post_id in results}) == 1
    assert len(api.call("GET", "/v1/posts", key).get_json()["data"]) == 1


def test_bad_key_header_is_400(api: Api, key: str) -> None:
    response = api.call("POST", "/v1/posts", key, json={}, headers={"Idempotency-Key": "x" * 300})
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "Idempotency-Key"


def test_stored_answers_are_sealed_so_a_webhook_secret_never_rests_in_clear(api: Api, key: str) -> None:
    from sqlalchemy import select

    from postdodo_connect.storage.schema import idempotency_keys

    body = {"url": "https://93.184.216.34/hook"}
    first = api.call("POST", "/v1/webhooks", key, json=body, headers={"Idempotency-Key": "wh-1"})
    again = api.call("POST", "/v1/webhooks", key, json=body, headers={"Idempotency-Key": "wh-1"})
    assert first.status_code == 201 and again.get_json()["secret"] == first.get_json()["secret"]
    with api.db.read() as conn:
        stored = conn.execute(select(idempotency_keys.c.response)).scalar_one()
    assert "whsec_" not in stored and first.get_json()["secret"] not in stored



@pytest.fixture(params=["sqlite", "postgresql"])
def clocked(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[tuple[Api, FakeClock]]:
    """The API on each database, with a clock the test moves (POSTDODO_IDEMPOTENCY_LEASE=60)."""
    url = f"sqlite:///{tmp_path / 'lease.db'}" if request.param == "sqlite" else pg_url
    clock = FakeClock()
    api = make_api(url, clock=clock, idempotency_lease=60.0)
    yield api, clock
    api.db.dispose()


def test_a_key_whose_request_died_mid_flight_is_released_after_its_lease(
        clocked: tuple[Api, FakeClock], monkeypatch: pytest.MonkeyPatch) -> None:
    api, clock = clocked
    monkeypatch.setattr(api_idempotency, "WAIT_FOR_FIRST", 0.0)  # answer 409 at once instead of waiting 10 s
    with api.db.write() as conn:
        workspace = keys_store.create_workspace(conn, "lease", test=True)
        _, key = keys_store.create_key(conn, workspace)
    acct = api.sandbox_account(key)
    body = {"caption": "after a crash", "account_ids": [acct["id"]], "scheduled_at": "2099-01-01T00:00:00Z"}
    # the first request reserved the key, then its process died before answering
    assert idempotency.reserve(api.db, workspace["id"], "crashed", "its-fingerprint", clock(), 86400, 60) is None
    clock.advance(30)
    busy = api.call("POST", "/v1/posts", key, json=body, headers={"Idempotency-Key": "crashed"})
    assert busy.status_code == 409 and busy.get_json()["error"]["code"] == "idempotency_conflict"
    clock.advance(31)
    retried = api.call("POST", "/v1/posts", key, json=body, headers={"Idempotency-Key": "crashed"})
    assert retried.status_code == 201
    replayed = api.call("POST", "/v1/posts", key, json=body, headers={"Idempotency-Key": "crashed"})
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.get_json() == retried.get_json()
    assert len(api.call("GET", "/v1/posts", key).get_json()["data"]) == 1
