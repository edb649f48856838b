"""The post JSON built by hand equals the `Post` model's round trip, for posts in every state, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from postdodo_connect.api.posts import post_json
from postdodo_connect.models import Post
from postdodo_connect.storage import posts as store
from postdodo_connect.storage.schema import targets
from tests.support.factory import make_api


def _reference(post: dict[str, Any]) -> dict[str, Any]:
    data = Post.model_validate(post | (post.get("versions") or {})).model_dump(mode="json")
    data["targets"] = [{k: v for k, v in t.items() if v is not None} for t in data["targets"]]
    return data


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_post_json_equals_the_model(database: str, tmp_path: Path, pg_url: str) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'pj.db'}" if database == "sqlite" else pg_url)
    key = api.new_key()
    accounts = [api.sandbox_account(key, p)["id"] for p in ("bluesky", "mastodon", "telegram")]
    later = {"caption": "later 🎉", "account_ids": accounts[:2], "scheduled_at": "2099-01-01T10:00:00.250+02:00",
             "media": [{"url": "https://example.com/a.png"}, {"type": "image", "url": "https://example.com/b.jpg"}]}
    ids = [api.call("POST", "/v1/posts", key, json=body).get_json()["id"]
           for body in (later, {"caption": "now", "account_ids": accounts})]
    with api.db.write() as conn:  # every field a target can carry
        conn.execute(update(targets).where(targets.c.post_id == ids[1], targets.c.position == 0).values(
            status="confirmed", attempts=1, permalink="https://bsky.app/x", platform_post_id="at://x"))
        conn.execute(update(targets).where(targets.c.post_id == ids[1], targets.c.position == 1).values(
            status="failed", attempts=6, error={"code": "rejected", "message": "no", "retryable": False,
                                                "platform_error": {"status": 422, "body": ["x"]}}))
        conn.execute(update(targets).where(targets.c.post_id == ids[1], targets.c.position == 2).values(
            status="retrying", attempts=2, next_attempt_at=datetime(2030, 1, 1, 0, 0, 0, 999, tzinfo=UTC),
            error={"code": "rate_limited", "message": "slow down"}))
    with api.db.read() as conn:
        stored = [store.get_post(conn, api_id, post_id)
                  for api_id, post_id in ((_workspace_id(api, key), i) for i in ids)]
    for post in stored:
        assert post is not None
        assert post_json(post) == _reference(post)
        assert list(post_json(post)) == list(_reference(post))  # same key order: same bytes on the wire
    assert [list(t) for t in post_json(stored[1])["targets"]] == [list(t) for t in _reference(stored[1])["targets"]]


def _workspace_id(api: Any, key: str) -> str:
    from postdodo_connect.storage import keys

    with api.db.read() as conn:
        found = keys.authenticate(conn, key)
    assert found is not None
    return str(found["id"])
