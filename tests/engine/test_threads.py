"""Threads under the engine: items posted in order after the first post, resumed after failures and crashes,
never posted twice; the first post stays confirmed whatever the thread meets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses
from sqlalchemy import func, select

from postdodo_connect.platforms.base import Account
from postdodo_connect.platforms.sandbox import Sandbox
from postdodo_connect.storage.schema import events, posts
from tests.engine.conftest import Engine
from tests.engine.test_platform_state import MASTODON, Instance, engine, live, mocked, tick_killed

__all__ = ["engine", "mocked"]  # fixtures shared with test_platform_state

THREAD = [{"caption": "2/5 the menu"}, {"caption": "3/5 the prices"}, {"caption": "4/5 the hours"},
          {"caption": "5/5 see you"}]


@dataclass
class FlakyInstance(Instance):
    """A Mastodon instance that answers some statuses with an error first (`fail`: text -> answers left)."""

    fail: dict[str, tuple[int, int]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def create(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        self.sent.append(body | {"key": request.headers["Idempotency-Key"]})
        status, left = self.fail.get(body["status"], (0, 0))
        if left:
            self.fail[body["status"]] = (status, left - 1)
            self.posts += 1
            return status, {}, json.dumps({"error": "Service Unavailable" if status == 503 else "Validation failed"})
        return super().create(request)


def flaky(engine: Engine, mocked: responses.RequestsMock, **fail: tuple[int, int]) -> tuple[FlakyInstance, str, str]:
    instance = FlakyInstance(engine.clock, fail=dict(fail))
    instance.mount(mocked)
    key, account_id = live(engine, "mastodon", "alice@mastodon.example", instance_url=MASTODON, access_token="tok")
    return instance, key, account_id


def settle(engine: Engine, key: str, post_id: str, *, step: float = 31.0, limit: int = 40) -> dict[str, Any]:
    """Tick (the clock moving past retry delays) until the target's thread is no longer pending."""
    for _ in range(limit):
        engine.tick()
        target = engine.get(key, post_id)["targets"][0]
        if target["status"] not in ("scheduled", "publishing", "retrying") and target["thread"]["status"] != "pending":
            return target
        engine.clock.advance(step)
    raise AssertionError(f"thread not settled: {engine.get(key, post_id)}")


def created(instance: Instance) -> list[tuple[str, str | None]]:
    """(text, the status it replies to) of every status the instance holds, oldest first."""
    by_id = {s["id"]: s for s in instance.statuses}
    sent = {s["key"]: s for s in getattr(instance, "sent", [])}
    return [(s["content"].removeprefix("<p>").removesuffix("</p>"),
             next((b.get("in_reply_to_id") for k, b in sent.items() if instance.keys[k][1]["id"] == s["id"]), None))
            for s in sorted(by_id.values(), key=lambda s: s["id"])]


def event_types(engine: Engine) -> list[str]:
    with engine.api.db.read() as conn:
        return list(conn.execute(select(events.c.type).order_by(events.c.created_at, events.c.id)).scalars())


def test_sandbox_thread_posts_each_item_once_in_order(engine: Engine) -> None:
    key = engine.api.new_key()
    x = engine.api.sandbox_account(key, "x", handle="shop")
    bsky = engine.api.sandbox_account(key, "bluesky", handle="shop.bsky.social")
    post = engine.post(key, [x["id"], bsky["id"]], caption="1/5 spring menu", thread=THREAD,
                       platforms={"bluesky": {"thread": THREAD[:2]}})
    assert post["thread"] == [{"caption": t["caption"], "media": []} for t in THREAD]
    assert [t["thread"] for t in post["targets"]] == [
        {"status": "pending", "published": 0, "total": n, "items": [{"status": "pending"}] * n} for n in (4, 2)]
    for _ in range(6):
        engine.tick()
    done = engine.get(key, post["id"])
    assert done["status"] == "published"
    for target, account, n in ((done["targets"][0], x, 4), (done["targets"][1], bsky, 2)):
        assert target["status"] == "confirmed" and target["attempts"] == 1  # the items' attempts are the thread's
        assert (target["thread"]["status"], target["thread"]["published"], target["thread"]["total"]) == (
            "published", n, n)
        stored = engine.sandbox_posts(account["id"])
        assert [p["caption"] for p in stored] == ["1/5 spring menu", *(t["caption"] for t in THREAD[:n])]
        ids = [p["platform_post_id"] for p in stored]
        assert ids[0] == target["platform_post_id"]
        assert [i["platform_post_id"] for i in target["thread"]["items"]] == ids[1:]
        assert len(set(ids)) == n + 1 and all(i["permalink"] for i in target["thread"]["items"])
    assert done["targets"][0]["thread"]["items"][0]["permalink"].startswith("https://x.com/shop/status/")
    assert event_types(engine).count("post.thread_published") == 2
    assert engine.tick() == 0


def test_mid_thread_outage_resumes_at_the_failed_item(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = flaky(engine, mocked, **{"3/5 the prices": (503, 1)})
    post = engine.post(key, [account_id], caption="1/5 spring menu", thread=THREAD)
    engine.tick()  # the first post
    engine.tick()  # item 1
    engine.tick()  # item 2: 503
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "confirmed" and engine.get(key, post["id"])["status"] == "published"
    assert target["thread"]["status"] == "pending" and target["thread"]["published"] == 1
    assert target["thread"]["items"][1]["status"] == "pending"
    assert target["thread"]["items"][1]["error"]["code"] == "outcome_unknown"  # a 5xx on a create: maybe posted
    target = settle(engine, key, post["id"])
    assert target["thread"]["status"] == "published" and target["thread"]["published"] == 4
    # every status exactly once, each replying to the one before
    texts = ["1/5 spring menu", *(t["caption"] for t in THREAD)]
    assert [text for text, _ in created(instance)] == texts
    ids = [target["platform_post_id"], *(i["platform_post_id"] for i in target["thread"]["items"])]
    assert [parent for _, parent in created(instance)] == [None, *ids[:-1]]
    # item 2 was sent twice, under one Idempotency-Key (the instance would have answered the original)
    keys = [s["key"] for s in instance.sent if s["status"] == "3/5 the prices"]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert [s["status"] for s in instance.sent].count("2/5 the menu") == 1


def test_permanent_failure_stops_the_thread_and_keeps_the_post(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = flaky(engine, mocked, **{"4/5 the hours": (422, 1)})
    post = engine.post(key, [account_id], caption="1/5 spring menu", thread=THREAD)
    target = settle(engine, key, post["id"])
    assert target["status"] == "confirmed" and engine.get(key, post["id"])["status"] == "published"
    thread = target["thread"]
    assert (thread["status"], thread["published"], thread["total"]) == ("failed", 2, 4)
    assert [i["status"] for i in thread["items"]] == ["published", "published", "failed", "pending"]
    assert thread["items"][2]["error"]["code"] == "rejected" and not thread["items"][2]["error"]["retryable"]
    assert "5/5 see you" not in [s["status"] for s in instance.sent]
    assert len(instance.statuses) == 3
    assert event_types(engine).count("post.thread_failed") == 1
    with engine.api.db.read() as conn:
        data = conn.execute(select(events.c.data).where(events.c.type == "post.thread_failed")).scalar_one()
    data = json.loads(data) if isinstance(data, str) else data
    assert (data["status"], data["published"], data["total"], data["failed_item"]) == ("failed", 2, 4, 2)
    assert data["error"]["code"] == "rejected"
    engine.clock.advance(3600)
    assert engine.tick() == 0  # a failed thread is final: nothing is tried again


@pytest.mark.parametrize("down", [61.0, 2 * 3600.0], ids=["resent-with-its-key", "looked-up"])
def test_worker_killed_mid_item_settles_it_without_posting_twice(engine: Engine, mocked: responses.RequestsMock,
                                                                 down: float) -> None:
    instance, key, account_id = flaky(engine, mocked)
    post = engine.post(key, [account_id], caption="1/5 spring menu", thread=THREAD)
    engine.tick()
    engine.tick()  # item 1
    instance.kill_on_post = True  # item 2 is created, then the worker dies before the answer
    tick_killed(engine)
    # the lease runs out; within the key's hour the item is sent again (the instance replays the original),
    # beyond it the account's statuses are looked up (a re-send would post it twice)
    engine.clock.advance(down)
    assert engine.scheduler.reap() == 1
    target = settle(engine, key, post["id"])
    assert instance.posts == 5 + (down < 3600)
    assert target["thread"]["status"] == "published"
    assert [text for text, _ in created(instance)] == ["1/5 spring menu", *(t["caption"] for t in THREAD)]


def test_first_comment_with_a_thread_is_refused_and_other_platforms_refuse_threads(engine: Engine) -> None:
    key = engine.api.new_key()
    x = engine.api.sandbox_account(key, "x")
    tg = engine.api.sandbox_account(key, "telegram")
    both = engine.api.call("POST", "/v1/posts", key, json={
        "caption": "1/2", "account_ids": [x["id"], tg["id"]], "thread": [{"caption": "2/2"}], "first_comment": "hi"})
    assert both.status_code == 400
    assert {(d["platform"], d["rule"]) for d in both.get_json()["error"]["details"]} == {
        ("x", "post.thread.first_comment_conflict"), ("telegram", "telegram.thread.unsupported"),
        ("telegram", "telegram.first_comment.unsupported")}
    with engine.api.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(posts)).scalar_one() == 0


def test_unpublish_deletes_thread_items_last_first(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    key = engine.api.new_key()
    masto = engine.api.sandbox_account(key, "mastodon")
    post = engine.post(key, [masto["id"]], caption="1/3", thread=THREAD[:2])
    for _ in range(3):
        engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    deleted: list[str] = []
    original = Sandbox.delete

    def spy(self: Sandbox, account: Account, platform_post_id: str) -> None:
        deleted.append(platform_post_id)
        original(self, account, platform_post_id)

    monkeypatch.setattr(Sandbox, "delete", spy)
    assert engine.api.call("POST", f"/v1/posts/{post['id']}/unpublish", key).status_code == 202
    engine.tick()
    done = engine.get(key, post["id"])
    assert done["status"] == "unpublished"
    items = target["thread"]["items"]
    assert deleted == [items[1]["platform_post_id"], items[0]["platform_post_id"], target["platform_post_id"]]
    assert [i["status"] for i in done["targets"][0]["thread"]["items"]] == ["unpublished", "unpublished"]
    assert engine.sandbox_posts(masto["id"]) == []


def test_an_item_whose_media_process_is_checked_when_the_platform_says(engine: Engine) -> None:
    key = engine.api.new_key()
    x = engine.api.sandbox_account(key, "x", sandbox={"processing_seconds": 400})
    video = {"type": "video", "url": "https://cdn.example.com/clip.mp4"}
    post = engine.post(key, [x["id"]], caption="1/2 watch this", thread=[{"caption": "2/2 the clip", "media": [video]}])
    engine.tick()
    engine.tick()  # the item's upload: still processing
    thread = engine.get(key, post["id"])["targets"][0]["thread"]
    assert thread["status"] == "pending" and thread["items"] == [{"status": "pending"}]
    engine.clock.advance(399)
    assert engine.tick() == 0  # the next check waits for the platform's hint, holding no worker
    engine.clock.advance(1)
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["thread"]["status"] == "published"
    assert [p["caption"] for p in engine.sandbox_posts(x["id"])] == ["1/2 watch this", "2/2 the clip"]


def test_unpublish_before_the_thread_is_done_cancels_the_rest(engine: Engine) -> None:
    key = engine.api.new_key()
    masto = engine.api.sandbox_account(key, "mastodon")
    post = engine.post(key, [masto["id"]], caption="1/3", thread=THREAD[:2])
    engine.tick()  # the first post only
    assert engine.api.call("POST", f"/v1/posts/{post['id']}/unpublish", key).status_code == 202
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "unpublished"
    assert target["thread"] == {"status": "canceled", "published": 0, "total": 2,
                                "items": [{"status": "pending"}, {"status": "pending"}]}
    assert engine.sandbox_posts(masto["id"]) == [] and engine.tick() == 0
