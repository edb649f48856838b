"""Real adapters (Mastodon, TikTok, Instagram) on mocked platforms under the engine: crashes, lease expiry,
408, slow processing. Each ends with exactly one post on the platform per target, none failed needlessly."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from sqlalchemy import select

from postdodo_connect.platforms import Platform
from postdodo_connect.storage import accounts as accounts_store
from postdodo_connect.storage import keys as keys_store
from postdodo_connect.storage.schema import targets
from tests.engine.conftest import Engine, build_engine

MEDIA_URL = "https://cdn.example.com/clip.mp4"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200
MASTODON = "https://mastodon.example"
TIKTOK = "https://open.tiktokapis.com/v2"
GRAPH = "https://graph.facebook.com/v23.0"
IG_USER = "17841400008460056"


class Killed(BaseException):
    """kill -9 of the worker while its request is on the wire: nothing after this line runs in the engine."""


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Engine:
    url = f"sqlite:///{tmp_path / 'state.db'}" if request.param == "sqlite" else pg_url
    return build_engine(url)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def live(engine: Engine, platform: str, handle: str, **credentials: str) -> tuple[str, str]:
    """A live workspace key and one live account with these credentials; adapters see the engine's clock."""
    with engine.api.db.write() as conn:
        workspace = keys_store.create_workspace(conn, "live", test=False)
        _, key = keys_store.create_key(conn, workspace)
        account = accounts_store.create_account(conn, workspace["id"], platform=platform, handle=handle, mode="live",
                                                credentials=engine.runtime.vault.seal_json(credentials))
    build = engine.runtime.adapter_for

    def adapter_for(row: dict[str, Any]) -> Platform:
        adapter = build(row)
        adapter.clock = lambda: engine.clock().timestamp()
        adapter.resolver = lambda host, port: ["93.184.216.34"]

        def no_waiting(seconds: float) -> None:
            raise AssertionError(f"a worker was held {seconds} s")

        adapter.sleep = no_waiting
        return adapter

    engine.runtime.publisher.adapter_for = adapter_for
    return key, account["id"]


def target_row(engine: Engine) -> Any:
    with engine.api.db.read() as conn:
        return conn.execute(select(targets)).one()


def run_until_final(engine: Engine, *, step: float = 1.0, limit: int = 200) -> None:
    """Tick, moving the clock, until the (only) target is final."""
    for _ in range(limit):
        if target_row(engine).status in ("confirmed", "failed"):
            return
        engine.tick()
        engine.clock.advance(step)
    raise AssertionError(f"not final: {target_row(engine)}")


def tick_killed(engine: Engine) -> None:
    with pytest.raises(Killed):
        engine.tick()


# -- a Mastodon instance: statuses stored per Idempotency-Key for an hour -----------------------------


@dataclass
class Instance:
    """The part of a Mastodon instance the adapter talks to."""

    clock: Callable[[], datetime]
    statuses: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, tuple[datetime, dict[str, Any]]] = field(default_factory=dict)
    posts: int = 0  # POST /api/v1/statuses received
    kill_on_post: bool = False  # the status is created, then the worker dies before the answer
    answer_408: int = 0  # this many requests are dropped unread with 408

    def create(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.posts += 1
        if self.answer_408:
            self.answer_408 -= 1
            return 408, {}, json.dumps({"error": "Request Timeout"})
        key, now = request.headers["Idempotency-Key"], self.clock()
        if key in self.keys and (now - self.keys[key][0]).total_seconds() < 3600:
            if self.kill_on_post:
                self.kill_on_post = False
                raise Killed
            return 200, {}, json.dumps(self.keys[key][1])  # the replay of the original answer
        sent = json.loads(request.body)
        number = str(110000000000000000 + len(self.statuses))
        status = {"id": number, "created_at": now.isoformat().replace("+00:00", "Z"), "url": f"{MASTODON}/@alice/{number}",
                  "content": f"<p>{sent['status']}</p>", "account": {"id": "1", "acct": "alice"},
                  "in_reply_to_id": sent.get("in_reply_to_id"),
                  "media_attachments": [{"id": m} for m in sent.get("media_ids", [])]}
        self.statuses.insert(0, status)
        self.keys[key] = (now, status)
        if self.kill_on_post:
            self.kill_on_post = False
            raise Killed
        return 200, {}, json.dumps(status)

    def mount(self, mocked: responses.RequestsMock) -> None:
        mocked.add_callback("POST", f"{MASTODON}/api/v1/statuses", callback=self.create)
        mocked.get(f"{MASTODON}/api/v1/accounts/verify_credentials", json={"id": "1", "username": "alice"})
        mocked.add_callback("GET", f"{MASTODON}/api/v1/accounts/1/statuses",
                            callback=lambda _: (200, {}, json.dumps(self.statuses)))


def mastodon(engine: Engine, mocked: responses.RequestsMock) -> tuple[Instance, str, str]:
    instance = Instance(engine.clock)
    instance.mount(mocked)
    key, account_id = live(engine, "mastodon", "alice@mastodon.example", instance_url=MASTODON, access_token="tok")
    return instance, key, account_id


def test_mastodon_408_is_a_plain_retry_with_its_own_code(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = mastodon(engine, mocked)
    instance.answer_408 = 1
    post = engine.post(key, [account_id], caption="Hello fediverse")
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["error"]["code"], target["error"]["retryable"]) == ("retrying", "not_processed", True)
    engine.clock.advance(31)
    engine.tick()
    assert engine.get(key, post["id"])["targets"][0]["status"] == "confirmed"
    assert (instance.posts, len(instance.statuses)) == (2, 1)


def test_mastodon_lease_expired_before_the_call_is_a_plain_retry(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = mastodon(engine, mocked)
    post = engine.post(key, [account_id], caption="Hello fediverse")
    engine.dispatcher.drop = True  # claimed, and the worker died before calling Mastodon
    engine.tick()
    engine.dispatcher.drop = False
    engine.clock.advance(61)
    assert engine.scheduler.reap() == 1
    assert engine.get(key, post["id"])["targets"][0]["error"]["code"] == "interrupted"  # not lease_expired
    engine.tick()
    assert engine.get(key, post["id"])["targets"][0]["status"] == "confirmed"
    assert (instance.posts, len(instance.statuses)) == (1, 1)


def test_mastodon_killed_mid_call_is_resent_with_its_key_within_the_hour(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = mastodon(engine, mocked)
    instance.kill_on_post = True
    post = engine.post(key, [account_id], caption="Hello fediverse")
    tick_killed(engine)
    engine.clock.advance(61)
    assert engine.scheduler.reap() == 1
    assert engine.get(key, post["id"])["targets"][0]["error"]["code"] == "lease_expired"
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "confirmed" and target["platform_post_id"] == instance.statuses[0]["id"]
    assert (instance.posts, len(instance.statuses)) == (2, 1)  # the replay answered with the original


def test_mastodon_killed_mid_call_is_looked_up_beyond_the_hour(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = mastodon(engine, mocked)
    instance.statuses.append({"id": "1", "created_at": "2026-06-30T12:00:00Z", "url": f"{MASTODON}/@alice/1",
                              "content": "<p>Hello fediverse</p>", "media_attachments": []})  # yesterday's twin
    instance.kill_on_post = True
    post = engine.post(key, [account_id], caption="Hello fediverse")
    tick_killed(engine)
    engine.clock.advance(2 * 3600)  # the engine was down past the key's hour: a re-send would post again
    assert engine.scheduler.reap() == 1
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "confirmed" and target["platform_post_id"] == instance.statuses[0]["id"] != "1"
    assert (instance.posts, len(instance.statuses)) == (1, 2)


def test_mastodon_horizon_counts_from_the_first_call_not_the_resend(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = mastodon(engine, mocked)
    instance.kill_on_post = True
    post = engine.post(key, [account_id], caption="Hello fediverse")
    tick_killed(engine)  # the status exists; its answer was lost
    engine.clock.advance(400)
    engine.scheduler.reap()
    instance.kill_on_post = True
    tick_killed(engine)  # the re-send within the hour is lost too
    engine.clock.advance(3250)  # the instance forgot the key (1 h after the first call), not the re-send's hour
    engine.scheduler.reap()
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "confirmed" and len(instance.statuses) == 1  # looked up, not posted again
    assert instance.posts == 2


def test_mastodon_media_processing_is_a_phase_and_the_upload_happens_once(engine: Engine, mocked: responses.RequestsMock) -> None:
    instance, key, account_id = mastodon(engine, mocked)
    mocked.get(MEDIA_URL, body=MP4, content_type="video/mp4")
    uploads = mocked.post(f"{MASTODON}/api/v2/media", status=202, json={"id": "555", "url": None})
    ready_at = engine.clock().timestamp() + 40

    def media(_: Any) -> tuple[int, dict[str, str], str]:
        done = engine.clock().timestamp() >= ready_at
        return (200 if done else 206), {}, json.dumps({"id": "555", "url": f"{MASTODON}/m/555.mp4" if done else None})

    mocked.add_callback("GET", f"{MASTODON}/api/v1/media/555", callback=media)
    post = engine.post(key, [account_id], caption="A clip", media=[{"type": "video", "url": MEDIA_URL}])
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["phase"], target.get("error")) == ("publishing", "processing", None)
    assert target["next_attempt_at"] is not None  # when the next check is due
    run_until_final(engine, step=5.0)
    assert target_row(engine).status == "confirmed"
    assert uploads.call_count == 1 and len(instance.statuses) == 1
    assert instance.statuses[0]["media_attachments"] == [{"id": "555"}]


# -- TikTok: the publish_id is the handle ---------------------------------------------------------------


def ok(data: dict[str, Any]) -> str:
    return json.dumps({"data": data, "error": {"code": "ok", "message": "", "log_id": "2026"}})


@dataclass
class Creator:
    """TikTok's Content Posting API for one creator: inits queue a post that completes after `takes` seconds."""

    clock: Callable[[], datetime]
    takes: float = 0.0
    inits: list[datetime] = field(default_factory=list)
    kill_on_first_status: bool = False

    def init(self, _: Any) -> tuple[int, dict[str, str], str]:
        self.inits.append(self.clock())
        return 200, {}, ok({"publish_id": f"p_pub_url~v2.{len(self.inits)}"})

    def status(self, request: Any) -> tuple[int, dict[str, str], str]:
        if self.kill_on_first_status:
            self.kill_on_first_status = False
            raise Killed
        number = int(json.loads(request.body)["publish_id"].rsplit(".", 1)[1])
        done = (self.clock() - self.inits[number - 1]).total_seconds() >= self.takes
        return 200, {}, ok({"status": "PUBLISH_COMPLETE" if done else "PROCESSING_DOWNLOAD",
                            "publicaly_available_post_id": [7391040583739003000 + number] if done else []})

    def mount(self, mocked: responses.RequestsMock) -> None:
        mocked.add_callback("POST", f"{TIKTOK}/post/publish/video/init/", callback=self.init)
        mocked.add_callback("POST", f"{TIKTOK}/post/publish/status/fetch/", callback=self.status)


def tiktok(engine: Engine, mocked: responses.RequestsMock, **behaviour: Any) -> tuple[Creator, str, str]:
    creator = Creator(engine.clock, **behaviour)
    creator.mount(mocked)
    key, account_id = live(engine, "tiktok", "dodo.shop", access_token="act.tok")
    return creator, key, account_id


def test_tiktok_killed_after_init_resumes_from_the_saved_publish_id(engine: Engine, mocked: responses.RequestsMock) -> None:
    creator, key, account_id = tiktok(engine, mocked, kill_on_first_status=True)
    post = engine.post(key, [account_id], caption="Clip", media=[{"type": "video", "url": MEDIA_URL}])
    tick_killed(engine)  # the init answered (publish_id saved), then the worker died
    engine.clock.advance(61)
    engine.scheduler.reap()
    run_until_final(engine)
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["platform_post_id"]) == ("confirmed", "7391040583739003001")
    assert len(creator.inits) == 1


def test_tiktok_processing_for_twenty_minutes_holds_no_worker(engine: Engine, mocked: responses.RequestsMock) -> None:
    creator, key, account_id = tiktok(engine, mocked, takes=1200.0)
    post = engine.post(key, [account_id], caption="Clip", media=[{"type": "video", "url": MEDIA_URL}])
    run_until_final(engine, step=10.0, limit=400)
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "confirmed" and len(creator.inits) == 1
    assert target_row(engine).processing_checks >= 100  # far beyond max_attempts (4): checks have their own budget


def test_tiktok_processing_past_its_budget_fails_clearly(engine: Engine, mocked: responses.RequestsMock) -> None:
    creator, key, account_id = tiktok(engine, mocked, takes=10 * 3600.0)
    post = engine.post(key, [account_id], caption="Clip", media=[{"type": "video", "url": MEDIA_URL}])
    run_until_final(engine, step=60.0, limit=100)
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["error"]["code"]) == ("failed", "processing_timeout")
    assert len(creator.inits) == 1


def test_tiktok_init_lost_cannot_be_reconciled_and_says_so(engine: Engine, mocked: responses.RequestsMock) -> None:
    mocked.add_callback("POST", f"{TIKTOK}/post/publish/video/init/", callback=lambda _: (_ for _ in ()).throw(Killed()))
    key, account_id = live(engine, "tiktok", "dodo.shop", access_token="act.tok")
    post = engine.post(key, [account_id], caption="Clip", media=[{"type": "video", "url": MEDIA_URL}])
    tick_killed(engine)
    engine.clock.advance(61)
    engine.scheduler.reap()
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["error"]["code"]) == ("failed", "outcome_unknown")
    evidence = target["error"]["platform_error"]["evidence"]
    assert evidence["call_started_at"] == "2026-07-01T12:00:00Z" and evidence["handles"] == {}


# -- Instagram: containers ---------------------------------------------------------------------------


@dataclass
class Professional:
    """An Instagram professional account: containers that finish after `takes` seconds, media_publish, the media list."""

    clock: Callable[[], datetime]
    takes: float = 0.0
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: list[dict[str, Any]] = field(default_factory=list)
    kill_on_publish: bool = False

    def create(self, request: Any) -> tuple[int, dict[str, str], str]:
        container_id = str(17900000000000000 + len(self.containers))
        self.containers[container_id] = {"made": self.clock(), "status": "IN_PROGRESS",
                                         "caption": dict(p.split("=", 1) for p in request.body.split("&"))["caption"]}
        return 200, {}, json.dumps({"id": container_id})

    def status(self, request: Any) -> tuple[int, dict[str, str], str]:
        container_id = request.path_url.split("?")[0].rsplit("/", 1)[1]
        container = self.containers[container_id]
        if container["status"] == "IN_PROGRESS" and (self.clock() - container["made"]).total_seconds() >= self.takes:
            container["status"] = "FINISHED"
        return 200, {}, json.dumps({"id": container_id, "status_code": container["status"], "status": ""})

    def publish(self, request: Any) -> tuple[int, dict[str, str], str]:
        container_id = dict(p.split("=", 1) for p in request.body.split("&"))["creation_id"]
        container = self.containers[container_id]
        assert container["status"] == "FINISHED"
        container["status"] = "PUBLISHED"
        media_id = str(18000000000000000 + len(self.media))
        self.media.insert(0, {"id": media_id, "caption": container["caption"], "permalink": f"https://www.instagram.com/p/{media_id}/",
                              "timestamp": self.clock().strftime("%Y-%m-%dT%H:%M:%S+0000")})
        if self.kill_on_publish:
            self.kill_on_publish = False
            raise Killed
        return 200, {}, json.dumps({"id": media_id})

    def mount(self, mocked: responses.RequestsMock) -> None:
        mocked.add_callback("POST", f"{GRAPH}/{IG_USER}/media", callback=self.create)
        mocked.add_callback("POST", f"{GRAPH}/{IG_USER}/media_publish", callback=self.publish)
        mocked.add_callback("GET", f"{GRAPH}/{IG_USER}/media", callback=lambda _: (200, {}, json.dumps({"data": self.media})))
        mocked.add_callback("GET", matchers_regex(rf"{GRAPH}/179\d+"), callback=self.status)
        mocked.add_callback("GET", matchers_regex(rf"{GRAPH}/180\d+"),
                            callback=lambda r: (200, {}, json.dumps({"permalink": "https://www.instagram.com/p/x/"})))


def matchers_regex(pattern: str) -> Any:
    import re

    return re.compile(pattern)


def instagram(engine: Engine, mocked: responses.RequestsMock, **behaviour: Any) -> tuple[Professional, str, str]:
    account = Professional(engine.clock, **behaviour)
    account.mount(mocked)
    key, account_id = live(engine, "instagram", "dodo.shop", access_token="EAAG", ig_user_id=IG_USER)
    return account, key, account_id


def test_instagram_reel_processing_for_ten_minutes_publishes_one_container(engine: Engine, mocked: responses.RequestsMock) -> None:
    account, key, account_id = instagram(engine, mocked, takes=600.0)
    post = engine.post(key, [account_id], caption="Launch", media=[{"type": "video", "url": MEDIA_URL}])
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["phase"], target["attempts"]) == ("publishing", "processing", 1)
    engine.clock.advance(30)
    engine.tick()  # a check: no try of its own
    assert engine.get(key, post["id"])["targets"][0]["attempts"] == 1
    run_until_final(engine, step=30.0, limit=100)
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == "confirmed" and "phase" not in target
    assert target["attempts"] == 1 and target_row(engine).attempts > 10  # a dozen checks, one try
    assert len(account.containers) == 1 and len(account.media) == 1


def test_instagram_killed_in_media_publish_is_found_not_posted_again(engine: Engine, mocked: responses.RequestsMock) -> None:
    account, key, account_id = instagram(engine, mocked, kill_on_publish=True)
    account.media.append({"id": "17000", "caption": "Launch", "permalink": "https://www.instagram.com/p/old/",
                          "timestamp": "2026-06-30T12:00:00+0000"})  # yesterday's post with the same caption
    post = engine.post(key, [account_id], caption="Launch", media=[{"type": "video", "url": MEDIA_URL}])
    tick_killed(engine)
    engine.clock.advance(61)
    engine.scheduler.reap()
    assert engine.get(key, post["id"])["targets"][0]["error"]["code"] == "lease_expired"
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["platform_post_id"]) == ("confirmed", "18000000000000001")
    assert len(account.containers) == 1 and len(account.media) == 2


# -- the sandbox's knobs reach the same paths ---------------------------------------------------------


def test_sandbox_processing_seconds_is_a_processing_phase(engine: Engine) -> None:
    key = engine.api.new_key()
    account = engine.api.sandbox_account(key, "instagram", sandbox={"processing_seconds": 60})
    post = engine.post(key, [account["id"]], caption="Reel", media=[{"type": "video", "url": MEDIA_URL}])
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["phase"], target["next_attempt_at"]) == ("publishing", "processing", "2026-07-01T12:01:00Z")
    engine.clock.advance(60)
    engine.tick()
    assert engine.get(key, post["id"])["targets"][0]["status"] == "confirmed"
    assert len(engine.sandbox_posts(account["id"])) == 1


@pytest.mark.parametrize(("knobs", "final"), [
    ({"no_lookup": True}, "failed"),  # nothing can tell: outcome_unknown, never a guess
    ({"no_lookup": True, "idempotency_seconds": 3600}, "confirmed"),  # re-sent within the horizon
    ({}, "confirmed"),  # looked up
])
def test_sandbox_unknown_outcome_follows_its_knobs(engine: Engine, knobs: dict[str, Any], final: str) -> None:
    key = engine.api.new_key()
    faults = {"commit_then_fail_rate": 1, "fault_attempts": 1, **knobs}
    account = engine.api.sandbox_account(key, "mastodon", sandbox=faults)
    post = engine.post(key, [account["id"]], caption="hello")
    engine.tick()
    engine.clock.advance(31)
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert target["status"] == final and len(engine.sandbox_posts(account["id"])) == 1
    if final == "failed":
        assert target["error"]["code"] == "outcome_unknown"
        assert target["error"]["platform_error"]["evidence"]["call_started_at"] == "2026-07-01T12:00:00Z"
