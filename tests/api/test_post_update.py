"""PATCH /v1/posts/:id: edit a post until a target starts publishing; preflight again; post.updated; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from postdodo_connect.storage.schema import targets
from tests.support.factory import Api, make_api


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Api:
    return make_api(f"sqlite:///{tmp_path / 'u.db'}" if request.param == "sqlite" else pg_url)


@pytest.fixture
def key(api: Api) -> str:
    return api.new_key()


def later(hours: int = 2) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled(api: Api, key: str, *accounts: str) -> dict[str, Any]:
    response = api.call("POST", "/v1/posts", key, json={"caption": "First draft", "account_ids": list(accounts),
                                                        "scheduled_at": later()})
    assert response.status_code == 201
    return dict(response.get_json())


def test_edit_replaces_caption_schedule_versions_and_accounts(api: Api, key: str) -> None:
    masto, bsky = api.sandbox_account(key, "mastodon"), api.sandbox_account(key, "bluesky")
    post = scheduled(api, key, masto["id"])
    at = later(3)
    change = {"caption": "Final words", "scheduled_at": at, "account_ids": [masto["id"], bsky["id"]],
              "platforms": {"mastodon": {"options": {"visibility": "unlisted"}}}}
    response = api.call("PATCH", f"/v1/posts/{post['id']}", key, json=change)
    assert response.status_code == 200, response.get_json()
    edited = response.get_json()
    assert (edited["caption"], edited["scheduled_at"], edited["status"]) == ("Final words", at, "scheduled")
    assert [(t["account_id"], t["content"]["caption"]) for t in edited["targets"]] == [
        (masto["id"], "Final words"), (bsky["id"], "Final words")]
    assert edited["targets"][0]["content"]["options"]["visibility"] == "unlisted"
    assert api.call("GET", f"/v1/posts/{post['id']}", key).get_json()["targets"] == edited["targets"]
    events = api.call("GET", f"/v1/events?post_id={post['id']}", key).get_json()["data"]
    updated = [e for e in events if e["event"] == "post.updated"]
    assert len(updated) == 1 and updated[0]["data"]["scheduled_at"] == at


def test_edit_is_preflighted_and_a_refused_edit_changes_nothing(api: Api, key: str) -> None:
    x = api.sandbox_account(key, "x")
    post = scheduled(api, key, x["id"])
    response = api.call("PATCH", f"/v1/posts/{post['id']}", key, json={"caption": "a" * 300})
    assert response.status_code == 400
    assert [d["rule"] for d in response.get_json()["error"]["details"]] == ["x.caption.max_weighted_length"]
    response = api.call("PATCH", f"/v1/posts/{post['id']}", key, json={"platforms": {"x": {"options": {"poll": 1}}}})
    assert [d["rule"] for d in response.get_json()["error"]["details"]] == ["x.options.unknown"]
    assert api.call("GET", f"/v1/posts/{post['id']}", key).get_json()["caption"] == "First draft"


@pytest.mark.parametrize("status", ["publishing", "confirmed", "canceled"])
def test_edit_after_a_target_started_is_a_409(api: Api, key: str, status: str) -> None:
    first, second = api.sandbox_account(key, "mastodon"), api.sandbox_account(key, "bluesky")
    post = scheduled(api, key, first["id"], second["id"])
    with api.db.write() as conn:
        conn.execute(update(targets).where(targets.c.post_id == post["id"], targets.c.account_id == second["id"])
                     .values(status=status))
    response = api.call("PATCH", f"/v1/posts/{post['id']}", key, json={"caption": "too late"})
    assert response.status_code == 409
    assert api.call("GET", f"/v1/posts/{post['id']}", key).get_json()["caption"] == "First draft"


def test_edit_of_an_unknown_post_is_a_404(api: Api, key: str) -> None:
    assert api.call("PATCH", "/v1/posts/post_nope", key, json={"caption": "x"}).status_code == 404


def test_idempotency_key_replays_the_first_answer(api: Api, key: str) -> None:
    acct = api.sandbox_account(key, "mastodon")
    post = scheduled(api, key, acct["id"])
    headers = {"Idempotency-Key": "edit-1"}
    first = api.call("PATCH", f"/v1/posts/{post['id']}", key, json={"caption": "Once"}, headers=headers)
    again = api.call("PATCH", f"/v1/posts/{post['id']}", key, json={"caption": "Once"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    events = api.call("GET", f"/v1/events?post_id={post['id']}", key).get_json()["data"]
    assert [e["event"] for e in events].count("post.updated") == 1
