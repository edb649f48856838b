"""Unpublish asked while a follow-up (thread item, first comment) is on the wire: the in-flight attempt records
what it made, then the delete takes it down; nothing after it starts; a crash mid-call is settled, not orphaned."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses
from sqlalchemy import select

from postdodo_connect.storage.schema import events
from tests.engine.conftest import Engine
from tests.engine.test_platform_state import (
    MASTODON,
    Instance,
    Killed,
    engine,
    live,
    mocked,
    target_row,
    tick_killed,
)

__all__ = ["engine", "mocked"]  # fixtures shared with test_platform_state (SQLite and PostgreSQL)

THREAD = [{"caption": "2/4 the menu"}, {"caption": "3/4 the prices"}, {"caption": "4/4 see you"}]


@dataclass
class RacingInstance(Instance):
    """A Mastodon instance that runs a hook while a status's POST is in flight, and takes DELETEs."""

    hooks: dict[str, Callable[[], None]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # the text of every POST received

    def create(self, request: Any) -> tuple[int, dict[str, str], str]:
        text = json.loads(request.body)["status"]
        self.texts.append(text)
        hook = self.hooks.pop(text, None)
        if hook is not None:
            hook()  # the request has left the worker; its answer comes after the hook
        return super().create(request)

    def delete(self, request: Any) -> tuple[int, dict[str, str], str]:
        status_id = request.url.rsplit("/", 1)[-1]
        self.deleted.append(status_id)
        found = [s for s in self.statuses if s["id"] == status_id]
        if not found:
            return 404, {}, json.dumps({"error": "Record not found"})
        self.statuses.remove(found[0])
        return 200, {}, json.dumps(found[0])

    def mount(self, mocked: responses.RequestsMock) -> None:
        super().mount(mocked)
        mocked.add_callback("DELETE", re.compile(rf"{re.escape(MASTODON)}/api/v1/statuses/\d+"), callback=self.delete)

    def created_ids(self) -> set[str]:
        """Every status id the instance ever made (each key's original)."""
        return {status["id"] for _, status in self.keys.values()}


def racing(engine: Engine, mocked: responses.RequestsMock) -> tuple[RacingInstance, str, str]:
    instance = RacingInstance(engine.clock)
    instance.mount(mocked)
    key, account_id = live(engine, "mastodon", "alice@mastodon.example", instance_url=MASTODON, access_token="tok")
    return instance, key, account_id


def ask_unpublish(engine: Engine, key: str, post_id: str, plans: list[dict[str, Any]]) -> Callable[[], None]:
    """A hook that asks for the unpublish through the API and keeps its answer."""
    def hook() -> None:
        response = engine.api.call("POST", f"/v1/posts/{post_id}/unpublish", key)
        assert response.status_code == 202, response.get_json()
        plans.append(response.get_json())
    return hook


def settle(engine: Engine, key: str, post_id: str, *, limit: int = 20) -> dict[str, Any]:
    """Tick (moving the clock past retry delays) until the post is unpublished."""
    for _ in range(limit):
        engine.tick()
        post = engine.get(key, post_id)
        if post["status"] not in ("publishing", "unpublishing"):
            return post
        engine.clock.advance(31)
    raise AssertionError(f"not settled: {engine.get(key, post_id)}")


def event_types(engine: Engine) -> list[str]:
    with engine.api.db.read() as conn:
        return list(conn.execute(select(events.c.type).order_by(events.c.created_at, events.c.id)).scalars())


def test_thread_item_in_flight_is_recorded_then_deleted_and_the_rest_never_starts(
        engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = racing(engine, mocked)
    post = engine.post(key, [account_id], caption="1/4 spring menu", thread=THREAD)
    engine.tick()  # the first post
    engine.tick()  # item 1
    plans: list[dict[str, Any]] = []
    instance.hooks["3/4 the prices"] = ask_unpublish(engine, key, post["id"], plans)
    engine.tick()  # item 2: the unpublish is asked while its POST is on the wire
    (plan,) = plans
    assert plan["post"]["status"] == "unpublishing"
    assert [step["action"] for step in plan["targets"]] == ["unpublishing"]
    # the item in flight was recorded (with its id) on the unpublishing target, which waits for its delete
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "unpublishing"
    assert [i["status"] for i in target["thread"]["items"]] == ["published", "published", "pending"]
    done = settle(engine, key, post["id"])
    assert done["status"] == "unpublished"
    target = done["targets"][0]
    assert target["status"] == "unpublished"
    assert target["thread"]["status"] == "canceled"
    assert [i["status"] for i in target["thread"]["items"]] == ["unpublished", "unpublished", "pending"]
    # every status the instance made got its DELETE, replies first; item 3 was never sent
    assert len(instance.created_ids()) == 3 and set(instance.deleted) == instance.created_ids()
    assert instance.deleted[-1] == target["platform_post_id"]
    assert instance.statuses == [] and "4/4 see you" not in instance.texts
    assert event_types(engine).count("post.unpublished") == 1
    assert engine.tick() == 0


def test_first_comment_in_flight_is_recorded_then_deleted(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = racing(engine, mocked)
    post = engine.post(key, [account_id], caption="spring menu", first_comment="prices below")
    engine.tick()  # the post
    plans: list[dict[str, Any]] = []
    instance.hooks["prices below"] = ask_unpublish(engine, key, post["id"], plans)
    engine.tick()  # the comment: the unpublish is asked while its POST is on the wire
    assert [step["action"] for step in plans[0]["targets"]] == ["unpublishing"]
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "unpublishing" and target["first_comment"]["status"] == "published"
    done = settle(engine, key, post["id"])
    assert done["status"] == "unpublished" and done["targets"][0]["status"] == "unpublished"
    comment_id = target["first_comment"]["platform_post_id"]
    # the self-reply goes first, then the post it answers: nothing of the post is left up
    assert instance.deleted == [comment_id, target["platform_post_id"]]
    assert instance.statuses == []


def test_comment_job_claimed_before_the_unpublish_runs_the_delete_instead(
        engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = racing(engine, mocked)
    post = engine.post(key, [account_id], caption="spring menu", first_comment="prices below")
    engine.tick()  # the post
    engine.dispatcher.drop = True
    assert engine.tick() == 1  # the comment's job is claimed, still queued
    engine.dispatcher.drop = False
    assert engine.api.call("POST", f"/v1/posts/{post['id']}/unpublish", key).status_code == 202
    row = target_row(engine)
    assert row.status == "unpublishing" and row.lease_until is not None  # the queued job keeps its lease
    assert engine.tick() == 0
    assert engine.runtime.publisher.run(row.id, row.attempts) == "unpublished"  # the queued job deletes
    assert "prices below" not in instance.texts and instance.deleted == [row.platform_post_id]
    done = engine.get(key, post["id"])
    assert done["status"] == "unpublished" and done["targets"][0]["first_comment"]["status"] == "canceled"
    assert engine.tick() == 0


def test_unpublish_with_nothing_in_flight_is_claimed_at_once(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = racing(engine, mocked)
    post = engine.post(key, [account_id], caption="1/4 spring menu", thread=THREAD[:1])
    engine.tick()
    engine.tick()  # item 1: the thread is done, nothing holds the target
    response = engine.api.call("POST", f"/v1/posts/{post['id']}/unpublish", key)
    assert response.status_code == 202
    assert engine.tick() == 1  # due at once, no lease to wait out
    assert engine.get(key, post["id"])["status"] == "unpublished"
    assert set(instance.deleted) == instance.created_ids() and len(instance.deleted) == 2


@pytest.mark.parametrize(("created", "down"), [(True, 61.0), (True, 2 * 3600.0), (False, 61.0), (False, 2 * 3600.0)],
                         ids=["made-resent-with-its-key", "made-looked-up", "lost-resent-with-its-key",
                              "lost-looked-up"])
def test_worker_killed_mid_item_after_unpublish_ends_with_the_item_deleted_or_never_posted(
        engine: Engine, mocked: responses.RequestsMock, created: bool, down: float) -> None:
    instance, key, account_id = racing(engine, mocked)
    post = engine.post(key, [account_id], caption="1/4 spring menu", thread=THREAD)
    engine.tick()
    engine.tick()  # item 1
    plans: list[dict[str, Any]] = []
    asked = ask_unpublish(engine, key, post["id"], plans)

    def unpublish_then_die() -> None:
        asked()
        if not created:
            raise Killed  # the request died on the wire before the instance read it
        instance.kill_on_post = True  # the instance makes the status; its answer never reaches the worker

    instance.hooks["3/4 the prices"] = unpublish_then_die
    tick_killed(engine)
    assert engine.get(key, post["id"])["targets"][0]["status"] == "unpublishing"
    assert engine.tick() == 0  # the dead attempt's lease is not stolen
    # the lease runs out; within the key's hour the item is sent again (the instance answers with the original,
    # or makes it now: either way it is then deleted), beyond it the account's statuses are looked up
    engine.clock.advance(down)
    assert engine.scheduler.reap() == 1
    done = settle(engine, key, post["id"])
    target = done["targets"][0]
    assert done["status"] == "unpublished" and target["status"] == "unpublished"
    assert instance.statuses == []  # nothing is left up
    assert set(instance.deleted) == instance.created_ids()
    items = [i["status"] for i in target["thread"]["items"]]
    if created or down < 3600:
        assert items == ["unpublished", "unpublished", "pending"] and len(instance.created_ids()) == 3
    else:  # never made, and the lookup says so: nothing to delete
        assert items == ["unpublished", "pending", "pending"] and len(instance.created_ids()) == 2
    assert "4/4 see you" not in instance.texts


@pytest.mark.parametrize(("created", "down"), [(True, 61.0), (False, 61.0), (True, 2 * 3600.0)],
                         ids=["made-resent-with-its-key", "lost-resent-with-its-key", "past-the-horizon"])
def test_worker_killed_mid_comment_after_unpublish_ends_with_it_deleted_or_said_unknown(
        engine: Engine, mocked: responses.RequestsMock, created: bool, down: float) -> None:
    instance, key, account_id = racing(engine, mocked)
    post = engine.post(key, [account_id], caption="spring menu", first_comment="prices below")
    engine.tick()  # the post
    plans: list[dict[str, Any]] = []
    asked = ask_unpublish(engine, key, post["id"], plans)

    def unpublish_then_die() -> None:
        asked()
        if not created:
            raise Killed
        instance.kill_on_post = True

    instance.hooks["prices below"] = unpublish_then_die
    tick_killed(engine)
    engine.clock.advance(down)
    assert engine.scheduler.reap() == 1
    done = settle(engine, key, post["id"])
    target = done["targets"][0]
    assert done["status"] == "unpublished" and target["status"] == "unpublished"
    if down < 3600:  # sent again under its key: the original (or the first copy), then deleted
        assert set(instance.deleted) == instance.created_ids()
        assert instance.statuses == [] and target["first_comment"]["status"] == "published"
        assert len(instance.created_ids()) == 2
    else:  # Mastodon has no comment lookup: past the key's hour nobody can tell, and the comment says so
        assert target["first_comment"]["status"] == "failed"
        assert target["first_comment"]["error"]["code"] == "outcome_unknown"
        assert [s["content"] for s in instance.statuses] == ["<p>prices below</p>"]
        assert instance.deleted == [target["platform_post_id"]]
