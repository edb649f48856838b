"""A first comment whose attempt died mid-call is never posted twice: sent again under its key within the
platform's idempotency horizon, failed as `outcome_unknown` past it (no platform can look a comment up)."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from postdodo_connect.platforms.base import Account, Published
from postdodo_connect.platforms.sandbox import Sandbox
from tests.engine.conftest import Engine
from tests.engine.test_platform_state import Killed, engine, mocked, tick_killed
from tests.engine.test_unpublish_race import racing

__all__ = ["engine", "mocked"]  # fixtures shared with test_platform_state (SQLite and PostgreSQL)


def comment_after_a_dead_attempt(engine: Engine, key: str, post_id: str, down: float) -> dict[str, Any]:
    """Let the dead attempt's lease run out after `down` seconds, then run the comment's next attempt."""
    engine.clock.advance(down)
    assert engine.scheduler.reap() == 1
    engine.tick()
    target: dict[str, Any] = engine.get(key, post_id)["targets"][0]
    return target


@pytest.mark.parametrize(("created", "down"), [(True, 61.0), (False, 61.0), (True, 2 * 3600.0)],
                         ids=["made-resent-with-its-key", "lost-resent-with-its-key", "past-the-horizon"])
def test_mastodon_comment_killed_mid_call_appears_once_or_says_unknown(
        engine: Engine, mocked: responses.RequestsMock, created: bool, down: float) -> None:
    instance, key, account_id = racing(engine, mocked)
    post = engine.post(key, [account_id], caption="spring menu", first_comment="prices below")
    engine.tick()  # the post

    def die() -> None:
        if not created:
            raise Killed  # the request died on the wire before the instance read it
        instance.kill_on_post = True  # the instance makes the reply; its answer never reaches the worker

    instance.hooks["prices below"] = die
    tick_killed(engine)
    target = comment_after_a_dead_attempt(engine, key, post["id"], down)
    assert target["status"] == "confirmed"  # whatever the comment meets, the post stands
    replies = [s for s in instance.statuses if s["content"] == "<p>prices below</p>"]
    if down < 3600:  # within the key's hour the repeat is answered with the original (or makes it now)
        assert len(replies) == 1
        assert target["first_comment"] == {"status": "published", "platform_post_id": replies[0]["id"],
                                           "permalink": replies[0]["url"]}
    else:  # past it a repeat would post a second reply: the comment says it may exist instead
        assert len(replies) == 1 and instance.texts.count("prices below") == 1
        assert target["first_comment"]["status"] == "failed"
        assert target["first_comment"]["error"]["code"] == "outcome_unknown"
    assert engine.tick() == 0


def test_comment_on_a_platform_without_a_horizon_is_never_sent_twice(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    key = engine.api.new_key()
    page = engine.api.sandbox_account(key, "facebook")
    sent: list[str] = []

    def dies_on_the_wire(self: Sandbox, account: Account, platform_post_id: str, text: str) -> Published:
        sent.append(text)
        raise Killed  # the comment may have been made; the worker is gone

    monkeypatch.setattr(Sandbox, "comment", dies_on_the_wire)
    post = engine.post(key, [page["id"]], first_comment="menu in the comments")
    engine.tick()  # the post
    tick_killed(engine)
    target = comment_after_a_dead_attempt(engine, key, post["id"], 400.0)
    assert sent == ["menu in the comments"]
    assert target["status"] == "confirmed"
    assert target["first_comment"]["status"] == "failed"
    assert target["first_comment"]["error"]["code"] == "outcome_unknown"
    assert engine.get(key, post["id"])["status"] == "published"
