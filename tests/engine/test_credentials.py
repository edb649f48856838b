"""Credentials that stay alive, on `responses`-mocked real adapters: rotation, races, refresh ahead, warnings."""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from responses import matchers
from sqlalchemy import select, update

from postdodo_connect import netguard
from postdodo_connect.engine import Runtime
from postdodo_connect.engine.dispatch import RQDispatcher
from postdodo_connect.engine.scheduler import Scheduler
from postdodo_connect.errors import PlatformUnavailable
from postdodo_connect.platforms import bluesky as bsky
from postdodo_connect.storage import accounts as accounts_store
from postdodo_connect.storage import keys as keys_store
from postdodo_connect.storage.schema import accounts, events, targets
from tests.engine.conftest import Engine, InlineDispatcher, build_engine
from tests.support.factory import make_api
from tests.support.server import wait_until

X_API = "https://api.x.com"
X_TOKEN = f"{X_API}/2/oauth2/token"
TWEET = {"data": {"id": "1445880548472328192", "text": "hello", "edit_history_tweet_ids": ["1445880548472328192"]}}
X_UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
LINKEDIN_USERINFO = "https://api.linkedin.com/v2/userinfo"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Engine:
    """An engine on SQLite and on PostgreSQL."""
    return build_engine(f"sqlite:///{tmp_path / 'creds.db'}" if request.param == "sqlite" else pg_url)


def live_account(runtime: Runtime, platform: str, handle: str, credentials: dict[str, Any],
                 expires_in: float | None = None) -> tuple[str, str, str]:
    """A live workspace with one connected account, as connecting leaves it: (key, workspace id, account id)."""
    now = runtime.clock()
    if expires_in is not None:
        credentials = credentials | {"expires_at": (now + timedelta(seconds=expires_in)).timestamp()}
    with runtime.db.write() as conn:
        workspace = keys_store.create_workspace(conn, "live", test=False)
        _, key = keys_store.create_key(conn, workspace)
        account = accounts_store.create_account(conn, workspace["id"], platform=platform, handle=handle, mode="live",
                                                credentials=runtime.vault.seal_json(credentials))
        if expires_in is not None:
            conn.execute(update(accounts).where(accounts.c.id == account["id"])
                         .values(token_expires_at=now + timedelta(seconds=expires_in)))
    return key, workspace["id"], account["id"]


def stored(runtime: Runtime, account_id: str) -> dict[str, Any]:
    """The account row with its credentials opened."""
    with runtime.db.read() as conn:
        row = accounts_store.load_account(conn, account_id)
    assert row is not None
    return row | {"credentials": runtime.vault.open_json(row["credentials"])}


def event_types(engine: Engine, workspace_id: str) -> list[str]:
    with engine.api.db.read() as conn:
        return list(conn.execute(select(events.c.type).where(events.c.workspace_id == workspace_id)
                                 .order_by(events.c.seq)).scalars())


def event_data(engine: Engine, workspace_id: str, kind: str) -> list[dict[str, Any]]:
    with engine.api.db.read() as conn:
        return [dict(d) for d in conn.execute(select(events.c.data).where(
            events.c.workspace_id == workspace_id, events.c.type == kind).order_by(events.c.seq)).scalars()]


def token_answer(access: str, refresh: str) -> dict[str, Any]:
    return {"token_type": "bearer", "expires_in": 7200, "access_token": access, "refresh_token": refresh,
            "scope": "tweet.read users.read tweet.write media.write offline.access"}


def x_refresh(mocked: responses.RequestsMock, spent: str, access: str, refresh: str) -> None:
    """X's token endpoint accepting exactly the refresh token `spent` (public client: client_id in the form)."""
    mocked.post(X_TOKEN, json=token_answer(access, refresh), match=[matchers.urlencoded_params_matcher(
        {"grant_type": "refresh_token", "refresh_token": spent, "client_id": "cid"})])


def x_tweet(mocked: responses.RequestsMock, token: str, **answer: Any) -> None:
    mocked.post(f"{X_API}/2/tweets", match=[matchers.header_matcher({"Authorization": f"Bearer {token}"})],
                **(answer or {"json": TWEET, "status": 201}))


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_x_token_rotated_twice_in_a_row_keeps_the_account_alive(engine: Engine, mocked: responses.RequestsMock) -> None:
    key, _, account_id = live_account(engine.runtime, "x", "acme", {"access_token": "tok1", "refresh_token": "r1",
                                                            "client_id": "cid"}, expires_in=7200)
    x_tweet(mocked, "tok1", status=401, json=X_UNAUTHORIZED)
    x_refresh(mocked, "r1", "tok2", "r2")
    x_tweet(mocked, "tok2")
    first = engine.post(key, [account_id], caption="hello")
    engine.tick()
    assert engine.get(key, first["id"])["targets"][0]["status"] == "confirmed"
    after_first = stored(engine.runtime, account_id)
    # stored sealed the moment X answered, with the expiry it stated
    assert after_first["credentials"] | {"expires_at": 0} == {"access_token": "tok2", "refresh_token": "r2",
                                                                "client_id": "cid", "expires_at": 0}
    assert after_first["token_expires_at"] == engine.clock() + timedelta(seconds=7200)

    engine.clock.advance(7300)  # tok2 has expired too: the second refresh must spend r2, not r1
    x_tweet(mocked, "tok2", status=401, json=X_UNAUTHORIZED)
    x_refresh(mocked, "r2", "tok3", "r3")
    x_tweet(mocked, "tok3")
    second = engine.post(key, [account_id], caption="hello again")
    engine.tick()
    assert engine.get(key, second["id"])["targets"][0]["status"] == "confirmed"
    final = stored(engine.runtime, account_id)
    assert (final["status"], final["credentials"]["refresh_token"], final["credentials"]["access_token"]) == (
        "active", "r3", "tok3")
    spent = [parse_qs(str(c.request.body))["refresh_token"] for c in mocked.calls if c.request.url == X_TOKEN]
    assert spent == [["r1"], ["r2"]]


def test_refresh_ahead_renews_before_expiry_and_not_again(engine: Engine, mocked: responses.RequestsMock) -> None:
    _, workspace_id, account_id = live_account(engine.runtime, "x", "acme", {
        "access_token": "tok1", "refresh_token": "r1", "client_id": "cid"}, expires_in=3600)
    engine.tick()  # an hour left: X tokens renew 10 minutes ahead, so nothing yet
    assert len(mocked.calls) == 0
    engine.clock.advance(3000)  # 10 minutes left
    x_refresh(mocked, "r1", "tok2", "r2")
    engine.tick()
    account = stored(engine.runtime, account_id)
    assert (account["status"], account["credentials"]["access_token"], account["credentials"]["refresh_token"]) == (
        "active", "tok2", "r2")
    assert account["token_expires_at"] == engine.clock() + timedelta(seconds=7200)
    engine.clock.advance(120)
    engine.tick()  # renewed: the next pass leaves it alone
    assert len(mocked.calls) == 1
    assert event_types(engine, workspace_id) == []


def test_refresh_refused_disconnects_the_account_once(engine: Engine, mocked: responses.RequestsMock) -> None:
    key, workspace_id, account_id = live_account(engine.runtime, "x", "acme", {
        "access_token": "tok1", "refresh_token": "spent", "client_id": "cid"}, expires_in=7200)
    x_tweet(mocked, "tok1", status=401, json=X_UNAUTHORIZED)
    mocked.post(X_TOKEN, status=400, json={"error": "invalid_request",
                                           "error_description": "Value passed for the token was invalid."})
    post = engine.post(key, [account_id], caption="hello")
    engine.tick()
    target = engine.get(key, post["id"])["targets"][0]
    assert (target["status"], target["error"]["code"]) == ("failed", "refresh_refused")
    assert "spent" not in json.dumps(target)  # no token in an error
    assert stored(engine.runtime, account_id)["status"] == "expired"
    disconnected = event_data(engine, workspace_id, "account.disconnected")
    assert [(d["account_id"], d["reason"]) for d in disconnected] == [(account_id, "refresh_refused")]
    engine.clock.advance(7000)
    engine.tick()  # the refresh-ahead pass leaves an expired account alone
    assert len(event_data(engine, workspace_id, "account.disconnected")) == 1


def test_expiry_that_cannot_be_renewed_is_announced_once(engine: Engine, mocked: responses.RequestsMock) -> None:
    # a 60-day LinkedIn token without a refresh token: only its owner can renew it
    _, workspace_id, account_id = live_account(engine.runtime, "linkedin", "Ada", {"access_token": "AQUv"},
                                               expires_in=10 * 86400)
    engine.tick()
    assert event_types(engine, workspace_id) == []  # 10 days left, the warning comes at 7
    engine.clock.advance(3 * 86400 + 60)
    engine.tick()
    engine.clock.advance(3600)
    engine.tick()
    engine.clock.advance(86400)
    engine.tick()
    warned = event_data(engine, workspace_id, "account.expiring")
    assert [(w["account_id"], w["platform"]) for w in warned] == [(account_id, "linkedin")]
    assert warned[0]["expires_at"].endswith("Z")
    engine.clock.advance(7 * 86400)  # past the expiry
    engine.tick()
    assert stored(engine.runtime, account_id)["status"] == "expired"
    assert event_types(engine, workspace_id) == ["account.expiring", "account.disconnected"]
    assert event_data(engine, workspace_id, "account.disconnected")[0]["reason"] == "token_expired"
    assert len(mocked.calls) == 0  # all of it without a call to LinkedIn


def test_warning_days_are_configurable(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'warn.db'}", account_expiring_days=1.0)
    _, workspace_id, _ = live_account(engine.runtime, "facebook", "Page", {"access_token": "EAAB", "page_id": "1"},
                                      expires_in=2 * 86400)
    engine.tick()
    assert event_types(engine, workspace_id) == []
    engine.clock.advance(86400 + 60)
    engine.tick()
    assert event_types(engine, workspace_id) == ["account.expiring"]


def second_runtime(engine: Engine) -> tuple[Runtime, Scheduler]:
    """Another engine process on the same database (its own adapters, keeper and scheduler)."""
    runtime = Runtime(engine.runtime.settings, engine.api.db, clock=engine.clock, sandbox_sleep=lambda s: None)
    scheduler = Scheduler(engine.api.db, InlineDispatcher(runtime), engine.clock, lease_seconds=60.0,
                          tick_seconds=0.01, batch=10, tokens=runtime.token_sweep())
    return runtime, scheduler


def test_two_workers_refreshing_at_once_spend_the_refresh_token_once(engine: Engine) -> None:
    _, _, account_id = live_account(engine.runtime, "x", "acme", {"access_token": "tok1", "refresh_token": "r1",
                                                          "client_id": "cid"}, expires_in=60)
    other, _ = second_runtime(engine)
    seen = stored(engine.runtime, account_id)["credentials"]
    loser_waiting = threading.Event()
    answered = []

    def token_endpoint(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        # the winner holds the lease while X answers: the other worker must find it taken and wait
        assert loser_waiting.wait(10), "the second worker never waited for the first"
        answered.append(request.body)
        return 200, {}, json.dumps(token_answer("tok2", "r2"))

    def loser_sleep(seconds: float) -> None:
        loser_waiting.set()
        time.sleep(seconds)

    other.keeper.sleep = loser_sleep
    other.keeper.wait_seconds = 10.0
    results: dict[str, dict[str, Any]] = {}
    winner_adapter = engine.runtime.adapter_for(stored(engine.runtime, account_id))
    loser_adapter = other.adapter_for(stored(engine.runtime, account_id))
    with responses.RequestsMock() as mocked:
        mocked.add_callback(responses.POST, X_TOKEN, callback=token_endpoint)
        winner = threading.Thread(target=lambda: results.update(
            winner=engine.runtime.keeper.renew(winner_adapter, account_id, seen)))
        winner.start()
        # the loser starts once the winner holds the lease (and so is inside the token call)
        deadline = time.monotonic() + 10
        while stored(engine.runtime, account_id)["refresh_lease_until"] is None:
            assert time.monotonic() < deadline and winner.is_alive(), "the winner never took the lease"
            time.sleep(0.01)
        results["loser"] = other.keeper.renew(loser_adapter, account_id, seen)
        winner.join(10)
    assert len(answered) == 1  # r1 spent once
    assert results["winner"]["access_token"] == results["loser"]["access_token"] == "tok2"
    final = stored(engine.runtime, account_id)
    assert (final["credentials"]["refresh_token"], final["refresh_lease_until"]) == ("r2", None)


def test_a_worker_that_cannot_wait_retries_later_and_then_reads_the_new_tokens(engine: Engine) -> None:
    _, _, account_id = live_account(engine.runtime, "x", "acme", {"access_token": "tok1", "refresh_token": "r1",
                                                          "client_id": "cid"}, expires_in=60)
    other, _ = second_runtime(engine)
    other.keeper.wait_seconds = 0.0
    seen = stored(engine.runtime, account_id)["credentials"]
    outcome: dict[str, Any] = {}

    def token_endpoint(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        try:  # another worker, mid-refresh of the winner
            other.keeper.renew(other.adapter_for(stored(engine.runtime, account_id)), account_id, seen)
        except PlatformUnavailable as exc:
            outcome["busy"] = exc
        return 200, {}, json.dumps(token_answer("tok2", "r2"))

    with responses.RequestsMock() as mocked:
        mocked.add_callback(responses.POST, X_TOKEN, callback=token_endpoint)
        engine.runtime.keeper.renew(engine.runtime.adapter_for(stored(engine.runtime, account_id)), account_id, seen)
        assert len(mocked.calls) == 1
        # its retry holds the old tokens: it gets the stored ones, no second refresh
        again = other.keeper.renew(other.adapter_for(stored(engine.runtime, account_id)), account_id, seen)
        assert len(mocked.calls) == 1
    assert outcome["busy"].code == "credentials_renewing" and outcome["busy"].retryable
    assert again["refresh_token"] == "r2"


# -- Bluesky: one login shared by every worker and process --------------------------------------------

BSKY = "https://bsky.social/xrpc"
PDS = "https://morel.us-east.host.bsky.network"
DID = "did:plc:z72i7hdynmk6r22z27h6tvur"


def jwt(exp: float) -> str:
    """An access JWT shaped like the PDS's (header.claims.signature), expiring at `exp`."""
    import base64

    claims = base64.urlsafe_b64encode(json.dumps({"scope": "com.atproto.appPass", "sub": DID, "exp": int(exp)})
                                      .encode()).rstrip(b"=").decode()
    return f"eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.{claims}.sig"


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SSRF guard resolves the (mocked) Bluesky hosts to a public address instead of asking DNS."""
    monkeypatch.setattr(netguard, "_default_resolver", lambda host, port: ["93.184.216.34"])


@pytest.fixture
def no_process_sessions() -> Iterator[None]:
    bsky.forget_sessions()
    yield
    bsky.forget_sessions()


@pytest.mark.usefixtures("no_process_sessions", "public_dns")
def test_bluesky_posts_100_times_across_two_runtimes_with_one_login(engine: Engine) -> None:
    key, _, account_id = live_account(engine.runtime, "bluesky", "alice.bsky.social", {
        "identifier": "alice.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"})
    engine.scheduler.batch = 10
    _, other = second_runtime(engine)
    access = jwt(engine.clock().timestamp() + 7200)
    session = {"did": DID, "handle": "alice.bsky.social", "accessJwt": access, "refreshJwt": "refresh-1",
               "didDoc": {"service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                       "serviceEndpoint": PDS}]}, "active": True}

    def create_record(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        assert request.headers["Authorization"] == f"Bearer {access}"
        rkey = json.loads(request.body or "{}")["rkey"]
        return 200, {}, json.dumps({"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": "bafyrei",
                                    "commit": {"cid": "bafyrei", "rev": "3l"}, "validationStatus": "valid"})

    with responses.RequestsMock() as mocked:
        mocked.post(f"{BSKY}/com.atproto.server.createSession", json=session)
        mocked.add_callback(responses.POST, f"{PDS}/xrpc/com.atproto.repo.createRecord", callback=create_record)
        posts = [engine.post(key, [account_id], caption=f"post {n}") for n in range(100)]
        for _ in range(30):  # the two engines take turns claiming ten at a time
            bsky.forget_sessions()  # no process memory shared: as if each engine were its own process
            if not (engine.tick() + other.tick()):
                break
        logins = sum("createSession" in c.request.url for c in mocked.calls)
        records = sum("createRecord" in c.request.url for c in mocked.calls)
    with engine.api.db.read() as conn:
        statuses = Counter(conn.execute(select(targets.c.status).where(
            targets.c.post_id.in_([p["id"] for p in posts]))).scalars())
    assert statuses == {"confirmed": 100}
    assert (logins, records) == (1, 100)
    kept = stored(engine.runtime, account_id)
    assert kept["credentials"]["session"]["refresh"] == "refresh-1"  # sealed with the account
    assert kept["token_expires_at"] == engine.clock().replace(microsecond=0) + timedelta(seconds=7200)


@pytest.mark.usefixtures("no_process_sessions", "public_dns")
def test_bluesky_connected_through_the_api_publishes_without_a_second_login(engine: Engine) -> None:
    key = engine.api.new_key("live", test=False)
    session = {"did": DID, "handle": "alice.bsky.social", "accessJwt": jwt(engine.clock().timestamp() + 7200),
               "refreshJwt": "refresh-1", "active": True}
    with responses.RequestsMock() as mocked:
        mocked.post(f"{BSKY}/com.atproto.server.createSession", json=session)
        mocked.post(f"{BSKY}/com.atproto.repo.createRecord", json={
            "uri": f"at://{DID}/app.bsky.feed.post/3k", "cid": "bafyrei", "validationStatus": "valid"})
        connected = engine.api.call("POST", "/v1/accounts", key, json={"platform": "bluesky", "credentials": {
            "identifier": "alice.bsky.social", "app_password": "abcd-efgh-ijkl-mnop", "service": "https://bsky.social"}})
        assert connected.status_code == 201, connected.get_json()
        post = engine.post(key, [connected.get_json()["id"]], caption="hello")
        engine.tick()
        assert sum("createSession" in c.request.url for c in mocked.calls) == 1
    assert engine.get(key, post["id"])["targets"][0]["status"] == "confirmed"
    assert stored(engine.runtime, connected.get_json()["id"])["credentials"]["session"]["refresh"] == "refresh-1"


# -- wiring: the refresh job under the real dispatchers -------------------------------------------------


def test_embedded_engine_renews_ahead_on_its_worker_threads(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'embedded.db'}", workers=2)
    runtime = Runtime(api.service.settings, api.db)
    _, _, account_id = live_account(runtime, "x", "acme", {"access_token": "tok1", "refresh_token": "r1",
                                                          "client_id": "cid"}, expires_in=300)
    threads: list[str] = []

    def token_endpoint(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        threads.append(threading.current_thread().name)
        return 200, {}, json.dumps(token_answer("tok2", "r2"))

    with responses.RequestsMock() as mocked:
        mocked.add_callback(responses.POST, X_TOKEN, callback=token_endpoint)
        runtime.start()
        try:
            wait_until(lambda: stored(runtime, account_id)["credentials"]["access_token"] == "tok2",
                       what="the token renewed ahead of its expiry")
        finally:
            runtime.stop(grace=5)
    assert len(threads) == 1 and threads[0].startswith("postdodo-refresh")  # a worker, not the scheduler


def test_every_rq_job_kind_names_an_importable_function() -> None:
    for kind, path in RQDispatcher.FUNCS.items():
        module, _, name = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), kind
        assert kind in RQDispatcher.QUEUES
