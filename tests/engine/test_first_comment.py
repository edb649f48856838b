"""First comments: posted after the post is confirmed, their own status and retries, never failing the post."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postdodo_connect.errors import PlatformRejected, PlatformUnavailable
from postdodo_connect.platforms.base import Account, Published
from postdodo_connect.platforms.sandbox import Sandbox
from postdodo_connect.storage.schema import posts
from tests.engine.conftest import Engine, build_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Iterator[Engine]:
    """An engine on SQLite, then on PostgreSQL."""
    engine = build_engine(f"sqlite:///{tmp_path / 'comment.db'}" if request.param == "sqlite" else pg_url)
    yield engine
    engine.api.db.dispose()


def test_first_comment_follows_the_confirmed_post_with_per_platform_text(engine: Engine,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    key = engine.api.new_key()
    x = engine.api.sandbox_account(key, "x", handle="shop")
    masto = engine.api.sandbox_account(key, "mastodon", handle="shop@mastodon.social")
    said: list[tuple[str, str, str]] = []
    original = Sandbox.comment

    def spy(self: Sandbox, account: Account, platform_post_id: str, text: str) -> Published:
        said.append((self.name, platform_post_id, text))
        return original(self, account, platform_post_id, text)

    monkeypatch.setattr(Sandbox, "comment", spy)
    post = engine.post(key, [x["id"], masto["id"]], first_comment="link in bio",
                       platforms={"mastodon": {"first_comment": "more at example.org"}})
    assert {t["first_comment"]["status"] for t in post["targets"]} == {"pending"}
    engine.tick()  # publishes; the comments are their own jobs
    done = engine.get(key, post["id"])
    assert done["status"] == "published"
    engine.tick()
    done = engine.get(key, post["id"])
    by_platform = {t["platform"]: t for t in done["targets"]}
    assert sorted(text for _, _, text in said) == ["link in bio", "more at example.org"]
    assert {(name, pid) for name, pid, _ in said} == {(t["platform"], t["platform_post_id"]) for t in done["targets"]}
    for target in by_platform.values():
        assert target["status"] == "confirmed" and target["first_comment"]["status"] == "published"
        assert target["first_comment"]["platform_post_id"] != target["platform_post_id"]
    assert by_platform["x"]["first_comment"]["permalink"].startswith("https://x.com/shop/status/")
    assert engine.tick() == 0


def test_first_comment_failure_leaves_the_post_confirmed_and_retries_on_its_own(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    key = engine.api.new_key()
    x = engine.api.sandbox_account(key, "x")
    fb = engine.api.sandbox_account(key, "facebook")
    calls: list[str] = []

    def failing(self: Sandbox, account: Account, platform_post_id: str, text: str) -> Published:
        calls.append(self.name)
        if self.name == "facebook":
            raise PlatformRejected("Facebook: (#100) comments are off", code="rejected")
        if calls.count("x") == 1:
            raise PlatformUnavailable("sandbox: 503 service unavailable", code="platform_unavailable")
        return Published(platform_post_id="1801", permalink="https://x.com/demo/status/1801")

    monkeypatch.setattr(Sandbox, "comment", failing)
    post = engine.post(key, [x["id"], fb["id"]], first_comment="first!")
    engine.tick()
    engine.tick()
    state = {t["platform"]: t for t in engine.get(key, post["id"])["targets"]}
    assert engine.get(key, post["id"])["status"] == "published"
    assert state["facebook"]["status"] == "confirmed"
    assert state["facebook"]["first_comment"]["status"] == "failed"
    assert state["facebook"]["first_comment"]["error"]["code"] == "rejected"
    assert state["x"]["first_comment"]["status"] == "pending"
    assert state["x"]["first_comment"]["error"]["code"] == "platform_unavailable"
    engine.clock.advance(29)
    assert engine.tick() == 0
    engine.clock.advance(1)
    engine.tick()
    state = {t["platform"]: t for t in engine.get(key, post["id"])["targets"]}
    assert state["x"]["first_comment"] == {"status": "published", "platform_post_id": "1801",
                                           "permalink": "https://x.com/demo/status/1801"}
    assert calls.count("facebook") == 1 and calls.count("x") == 2
    assert engine.get(key, post["id"])["status"] == "published"


def test_platforms_without_first_comment_refuse_it_in_preflight(engine: Engine) -> None:
    key = engine.api.new_key()
    tg = engine.api.sandbox_account(key, "telegram")
    ig = engine.api.sandbox_account(key, "instagram")
    body = {"caption": "hi", "account_ids": [tg["id"], ig["id"]], "first_comment": "more below",
            "media": [{"type": "image", "url": "https://cdn.example.com/a.jpg"}]}
    response = engine.api.call("POST", "/v1/posts", key, json=body)
    assert response.status_code == 400
    rules = {d["rule"] for d in response.get_json()["error"]["details"]}
    assert rules == {"telegram.first_comment.unsupported"}
    body["platforms"] = {"instagram": {"first_comment": "more below"}}
    del body["first_comment"]
    assert engine.api.call("POST", "/v1/posts", key, json=body).status_code == 201
    body["platforms"] = {"discord": {"first_comment": "x"}}
    refused = engine.api.call("POST", "/v1/posts", key, json=body).get_json()["error"]["details"]
    assert {d["rule"] for d in refused} == {"post.platforms.untargeted"}
    with engine.api.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(posts)).scalar_one() == 1


def test_unpublish_deletes_a_self_reply_comment_first(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    key = engine.api.new_key()
    masto = engine.api.sandbox_account(key, "mastodon")
    ig = engine.api.sandbox_account(key, "facebook")
    post = engine.post(key, [masto["id"], ig["id"]], first_comment="more below")
    engine.tick()
    engine.tick()
    targets = {t["platform"]: t for t in engine.get(key, post["id"])["targets"]}
    deleted: list[tuple[str, str]] = []
    original = Sandbox.delete

    def spy(self: Sandbox, account: Account, platform_post_id: str) -> None:
        deleted.append((self.name, platform_post_id))
        original(self, account, platform_post_id)

    monkeypatch.setattr(Sandbox, "delete", spy)
    engine.api.call("POST", f"/v1/posts/{post['id']}/unpublish", key)
    engine.tick()
    assert engine.get(key, post["id"])["status"] == "unpublished"
    # the Mastodon reply is a status of its own (deleted before its post); a Facebook comment goes with its
    # post. The targets' deletes are separate jobs in no set order: compare per platform
    assert sorted(deleted, key=lambda d: d[0] == "facebook") == [("mastodon", targets["mastodon"]["first_comment"]["platform_post_id"]),
                       ("mastodon", targets["mastodon"]["platform_post_id"]),
                       ("facebook", targets["facebook"]["platform_post_id"])]
