"""Unpublish: deletes run on the engine per target, unsupported platforms say so, retries, 404 as done, races."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from postdodo_connect.errors import PlatformNotFound, PlatformRejected, PlatformUnavailable
from postdodo_connect.platforms.base import Account
from postdodo_connect.platforms.sandbox import Sandbox
from postdodo_connect.storage.events import envelope, list_events
from postdodo_connect.storage.schema import posts
from tests.engine.conftest import Engine, build_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[Engine]:
    """An engine on SQLite, then on PostgreSQL."""
    engine = build_engine(f"sqlite:///{tmp_path / 'unpublish.db'}" if request.param == "sqlite" else pg_url)
    yield engine
    engine.api.db.dispose()


def events(engine: Engine, post_id: str) -> list[dict[str, Any]]:
    with engine.api.db.read() as conn:
        workspace_id = conn.execute(select(posts.c.workspace_id).where(posts.c.id == post_id)).scalar_one()
        return [envelope(r) for r in list_events(conn, workspace_id, post_id=post_id)]


def unpublish(engine: Engine, key: str, post_id: str, expect: int = 202) -> dict[str, Any]:
    response = engine.api.call("POST", f"/v1/posts/{post_id}/unpublish", key)
    assert response.status_code == expect, response.get_json()
    return dict(response.get_json())


def published(engine: Engine, key: str, platforms: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A post published on one sandbox account per platform."""
    accounts = {name: engine.api.sandbox_account(key, name, handle=f"shop-{name}") for name in platforms}
    post = engine.post(key, [a["id"] for a in accounts.values()],
                       media=[{"type": "image", "url": "https://cdn.example.com/a.jpg"}])
    engine.tick()
    assert engine.get(key, post["id"])["status"] == "published"
    return post, accounts


def test_mixed_platforms_delete_where_allowed_and_say_so_where_not(engine: Engine) -> None:
    key = engine.api.new_key()
    post, accounts = published(engine, key, ["mastodon", "instagram", "bluesky", "tiktok"])
    plan = unpublish(engine, key, post["id"])
    actions = {step["platform"]: step["action"] for step in plan["targets"]}
    assert actions == {"mastodon": "unpublishing", "instagram": "unsupported", "bluesky": "unpublishing",
                       "tiktok": "unsupported"}
    assert plan["post"]["status"] == "unpublishing"
    unsupported = [s for s in plan["targets"] if s["action"] == "unsupported"]
    assert all(s["error"]["code"] == "unpublish_unsupported" for s in unsupported)
    # nothing is deleted in the request: the engine does it
    assert len(engine.sandbox_posts(accounts["mastodon"]["id"])) == 1
    engine.tick()
    done = engine.get(key, post["id"])
    by_platform = {t["platform"]: t for t in done["targets"]}
    assert by_platform["mastodon"]["status"] == "unpublished" and by_platform["bluesky"]["status"] == "unpublished"
    assert by_platform["instagram"]["status"] == "confirmed"
    assert by_platform["instagram"]["error"]["code"] == "unpublish_unsupported"
    assert done["status"] == "partially_published"  # the Instagram and TikTok posts are still up
    assert engine.sandbox_posts(accounts["mastodon"]["id"]) == []
    assert engine.sandbox_posts(accounts["bluesky"]["id"]) == []
    assert len(engine.sandbox_posts(accounts["instagram"]["id"])) == 1
    gone = [e["data"] for e in events(engine, post["id"]) if e["event"] == "post.unpublished"]
    assert sorted(d["platform"] for d in gone) == ["bluesky", "mastodon"]
    assert all(d["status"] == "unpublished" for d in gone)
    assert [e["event"] for e in events(engine, post["id"])].count("post.completed") == 1


def test_all_deletable_targets_make_the_post_unpublished_and_a_repeat_changes_nothing(engine: Engine) -> None:
    key = engine.api.new_key()
    post, accounts = published(engine, key, ["x", "mastodon"])
    unpublish(engine, key, post["id"])
    engine.tick()
    assert engine.get(key, post["id"])["status"] == "unpublished"
    again = unpublish(engine, key, post["id"])
    assert {s["action"] for s in again["targets"]} == {"unpublished"}
    assert engine.tick() == 0


def test_transient_failure_is_retried_and_404_counts_as_done(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    key = engine.api.new_key()
    post, accounts = published(engine, key, ["mastodon", "bluesky"])
    calls: list[str] = []

    def flaky(self: Sandbox, account: Account, platform_post_id: str) -> None:
        calls.append(self.name)
        if self.name == "bluesky":
            raise PlatformNotFound("Bluesky: no such record", code="rejected")  # deleted by hand meanwhile
        if calls.count("mastodon") == 1:
            raise PlatformUnavailable("sandbox: 503 service unavailable", code="platform_unavailable")

    monkeypatch.setattr(Sandbox, "delete", flaky)
    unpublish(engine, key, post["id"])
    engine.tick()
    state = {t["platform"]: t for t in engine.get(key, post["id"])["targets"]}
    assert state["bluesky"]["status"] == "unpublished"
    assert state["mastodon"]["status"] == "unpublishing"
    assert state["mastodon"]["error"]["code"] == "platform_unavailable"
    assert engine.get(key, post["id"])["status"] == "unpublishing"
    engine.clock.advance(29)
    assert engine.tick() == 0  # the policy's first delay is 30 s
    engine.clock.advance(1)
    engine.tick()
    done = engine.get(key, post["id"])
    assert done["status"] == "unpublished"
    assert all("error" not in t for t in done["targets"])
    assert calls.count("mastodon") == 2


def test_permanent_failure_keeps_the_post_up_with_the_error(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    key = engine.api.new_key()
    post, _ = published(engine, key, ["telegram"])

    def too_old(self: Sandbox, account: Account, platform_post_id: str) -> None:
        raise PlatformRejected("Telegram: Bad Request: message can't be deleted", code="rejected")

    monkeypatch.setattr(Sandbox, "delete", too_old)
    unpublish(engine, key, post["id"])
    engine.tick()
    done = engine.get(key, post["id"])
    assert done["status"] == "published"
    target = done["targets"][0]
    assert target["status"] == "confirmed" and target["error"]["message"].endswith("can't be deleted")
    event = [e["data"] for e in events(engine, post["id"]) if e["event"] == "post.unpublished"]
    assert event[0]["status"] == "failed" and event[0]["error"]["code"] == "rejected"


def test_worker_dying_mid_delete_is_taken_back_and_deleted_once_more(engine: Engine) -> None:
    key = engine.api.new_key()
    post, accounts = published(engine, key, ["mastodon"])
    unpublish(engine, key, post["id"])
    engine.dispatcher.drop = True  # claimed, never run: a dead worker
    assert engine.tick() == 1
    engine.dispatcher.drop = False
    assert engine.tick() == 0  # leased: not claimed again before the lease runs out
    engine.clock.advance(61)
    engine.scheduler.reap()
    engine.tick()
    assert engine.get(key, post["id"])["status"] == "unpublished"
    assert engine.sandbox_posts(accounts["mastodon"]["id"]) == []


def test_bad_requests(engine: Engine) -> None:
    key = engine.api.new_key()
    unpublish(engine, key, "post_missing", expect=404)
    acct = engine.api.sandbox_account(key, "mastodon")
    at = engine.clock.now + timedelta(hours=1)
    post = engine.post(key, [acct["id"]], scheduled_at=at.isoformat())
    body = unpublish(engine, key, post["id"], expect=409)
    assert body["error"]["code"] == "conflict"
    assert engine.get(key, post["id"])["status"] == "scheduled"
    unpublish(engine, engine.api.new_key("other"), post["id"], expect=404)  # another workspace's post
