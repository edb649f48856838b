"""Target lifecycle: schedule, confirm, retry, fail, reconcile, cancel, reap — with an injected clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from postdodo_connect.engine.progress import TargetProgress
from postdodo_connect.errors import OutcomeUnknown
from postdodo_connect.models import format_time
from postdodo_connect.platforms.base import Account, Platform, PublishRequest
from postdodo_connect.storage.events import envelope, list_events
from postdodo_connect.storage.schema import accounts, posts, targets
from postdodo_connect.storage.work import load_target
from tests.engine.conftest import Engine


def events(engine: Engine, key: str, post_id: str) -> list[dict[str, Any]]:
    with engine.api.db.read() as conn:
        workspace_id = conn.execute(select(posts.c.workspace_id).where(posts.c.id == post_id)).scalar_one()
        return [envelope(r) for r in list_events(conn, workspace_id, post_id=post_id)]


def test_scheduled_post_publishes_at_its_time(engine: Engine) -> None:
    key = engine.api.new_key()
    ig = engine.api.sandbox_account(key, "instagram", handle="shop")
    bsky = engine.api.sandbox_account(key, "bluesky", handle="shop.bsky.social")
    at = engine.clock.now + timedelta(minutes=10)
    post = engine.post(key, [ig["id"], bsky["id"]], scheduled_at=format_time(at),
                       media=[{"type": "image", "url": "https://cdn.example.com/a.jpg"}])
    assert engine.tick() == 0
    engine.clock.advance(599)
    assert engine.tick() == 0
    assert engine.get(key, post["id"])["status"] == "scheduled"
    engine.clock.advance(1)
    assert engine.tick() == 2
    done = engine.get(key, post["id"])
    assert done["status"] == "published"
    links = {t["platform"]: t["permalink"] for t in done["targets"]}
    assert links["instagram"].startswith("https://www.instagram.com/p/")
    assert links["bluesky"].startswith("https://bsky.app/profile/shop.bsky.social/post/")
    assert all(t["attempts"] == 1 and t["status"] == "confirmed" and t["platform_post_id"] for t in done["targets"])
    kinds = [e["event"] for e in events(engine, key, post["id"])]
    assert kinds == ["post.scheduled", "post.published", "post.published", "post.completed"]
    published = [e for e in events(engine, key, post["id"]) if e["event"] == "post.published"][0]
    assert published["id"].startswith("evt_")
    assert set(published["data"]) >= {"post_id", "account_id", "platform", "status", "permalink"}
    assert published["data"]["status"] == "confirmed"
    assert len(engine.sandbox_posts(ig["id"])) == 1 and len(engine.sandbox_posts(bsky["id"])) == 1


def test_rate_limit_then_success_honours_the_hint(engine: Engine) -> None:
    key = engine.api.new_key()
    acct = engine.api.sandbox_account(key, sandbox={"rate_limit_rate": 1, "retry_after": 90, "fault_attempts": 1})
    post = engine.post(key, [acct["id"]])
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "retrying"
    assert target["error"]["code"] == "rate_limited" and target["error"]["retryable"] is True
    assert target["next_attempt_at"] == format_time(engine.clock.now + timedelta(seconds=90))  # hint > policy 30 s
    assert engine.get(key, post["id"])["status"] == "publishing"
    engine.clock.advance(89)
    assert engine.tick() == 0
    engine.clock.advance(1)
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["attempts"]) == ("confirmed", 2)
    assert "error" not in target
    assert [e["event"] for e in events(engine, key, post["id"])] == ["post.retrying", "post.published", "post.completed"]


def test_permanent_failure(engine: Engine) -> None:
    key = engine.api.new_key()
    bad = engine.api.sandbox_account(key, sandbox={"reject_rate": 1})
    good = engine.api.sandbox_account(key, "mastodon")
    post = engine.post(key, [bad["id"], good["id"]])
    engine.tick()
    done = engine.get(key, post["id"])
    assert done["status"] == "partially_published"
    failed = done["targets"][0]
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "rejected", "message": "sandbox: post rejected by policy", "retryable": False,
                               "platform_error": {"error": "content_policy"}}
    assert engine.sandbox_posts(bad["id"]) == []


def test_retries_run_out(engine: Engine) -> None:
    key = engine.api.new_key()
    acct = engine.api.sandbox_account(key, sandbox={"server_error_rate": 1})
    post = engine.post(key, [acct["id"]])
    for _ in range(4):
        engine.tick()
        engine.clock.advance(121)
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["attempts"]) == ("failed", 4)
    assert target["error"]["code"] == "platform_unavailable"
    assert target["error"]["message"].startswith("gave up after 4 attempts")
    assert engine.get(key, post["id"])["status"] == "failed"


def test_committed_then_500_publishes_exactly_once(engine: Engine) -> None:
    key = engine.api.new_key()
    acct = engine.api.sandbox_account(key, sandbox={"commit_then_fail_rate": 1})
    post = engine.post(key, [acct["id"]])
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "confirmed"  # reconciled by lookup, not re-published
    stored = engine.sandbox_posts(acct["id"])
    assert len(stored) == 1 and stored[0]["permalink"] == target["permalink"]


def test_timeout_without_commit_retries_and_publishes_once(engine: Engine) -> None:
    key = engine.api.new_key()
    acct = engine.api.sandbox_account(key, sandbox={"timeout_rate": 1, "fault_attempts": 1})
    post = engine.post(key, [acct["id"]])
    engine.tick()
    assert engine.get(key, post["id"])["targets"][0]["status"] == "retrying"
    engine.clock.advance(31)
    engine.tick()
    assert engine.get(key, post["id"])["targets"][0]["status"] == "confirmed"
    assert len(engine.sandbox_posts(acct["id"])) == 1


def test_auth_failure_expires_the_account(engine: Engine) -> None:
    key = engine.api.new_key()
    acct = engine.api.sandbox_account(key, sandbox={"auth_error_rate": 1})
    post = engine.post(key, [acct["id"]])
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["error"]["code"]) == ("failed", "auth_expired")
    listed = engine.api.call("GET", "/v1/accounts", key).get_json()["data"]
    assert listed[0]["status"] == "expired"
    with engine.api.db.read() as conn:
        ws_id = conn.execute(select(accounts.c.workspace_id).where(accounts.c.id == acct["id"])).scalar_one()
        kinds = [e["type"] for e in list_events(conn, ws_id)]
    assert "account.disconnected" in kinds
    refused = engine.api.call("POST", "/v1/posts", key, json={"caption": "again", "account_ids": [acct["id"]]})
    assert refused.status_code == 400 and refused.get_json()["error"]["details"][0]["rule"] == "account.expired"


class NoLookupPlatform(Platform):
    """A platform whose create times out and that cannot look posts up."""

    name = "bluesky"
    calls = 0

    def publish(self, account: Any, request: Any) -> Any:
        NoLookupPlatform.calls += 1
        raise OutcomeUnknown("read timeout", code="platform_timeout")


def test_unknown_outcome_without_lookup_fails_instead_of_duplicating(engine: Engine) -> None:
    key = engine.api.new_key()
    acct = engine.api.sandbox_account(key)
    engine.runtime.publisher.adapter_for = lambda row: NoLookupPlatform()
    post = engine.post(key, [acct["id"]])
    engine.tick()
    engine.clock.advance(3600)
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "failed"
    assert target["error"]["code"] == "outcome_unknown" and target["error"]["retryable"] is False
    assert NoLookupPlatform.calls == 1


def test_cancel_stops_scheduled_and_retrying_targets(engine: Engine) -> None:
    key = engine.api.new_key()
    acct = engine.api.sandbox_account(key, sandbox={"server_error_rate": 1})
    retrying = engine.post(key, [acct["id"]])
    engine.tick()
    assert engine.get(key, retrying["id"])["targets"][0]["status"] == "retrying"
    assert engine.api.call("DELETE", f"/v1/posts/{retrying['id']}", key).status_code == 200
    engine.clock.advance(3600)
    assert engine.tick() == 0
    assert engine.get(key, retrying["id"])["status"] == "canceled"


def test_reaper_reconciles_a_dead_workers_target(engine: Engine) -> None:
    key = engine.api.new_key()
    acct = engine.api.sandbox_account(key)
    post = engine.post(key, [acct["id"]])
    engine.dispatcher.drop = True  # the worker dies: claimed, never finished
    engine.tick()
    assert engine.get(key, post["id"])["targets"][0]["status"] == "publishing"
    # the dead worker had already published before dying
    sandbox = engine.runtime.adapter_for({"platform": "bluesky", "mode": "sandbox"})
    with engine.api.db.read() as conn:
        tid = conn.execute(select(targets.c.id).where(targets.c.post_id == post["id"])).scalar_one()
    with engine.api.db.read() as conn:
        claimed = load_target(conn, tid)
    assert claimed is not None
    progress = TargetProgress(claimed, 1, engine.runtime.vault, engine.clock, engine.runtime.publisher.record)
    sandbox.publish(Account(id=acct["id"], platform="bluesky", handle=acct["handle"]),
                    PublishRequest(tid, "hello", progress=progress))
    engine.dispatcher.drop = False
    assert engine.scheduler.reap() == 0  # lease still valid
    engine.clock.advance(61)
    assert engine.scheduler.reap() == 1
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "confirmed"
    assert len(engine.sandbox_posts(acct["id"])) == 1  # found, not published twice
