"""kill -9 mid-flight: after a restart every target is final and published exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select

from postdodo_connect.engine.dispatch import PUBLISH_QUEUE
from postdodo_connect.platforms.bluesky import tid_for
from postdodo_connect.storage import Database
from postdodo_connect.storage import keys as keys_store
from postdodo_connect.storage.schema import sandbox_posts, targets
from tests.support import rq
from tests.support.bluesky_stub import bluesky_stub
from tests.support.factory import SECRET, make_api
from tests.support.rq import fresh_redis_db, idle_workers
from tests.support.server import start_server, wait_until

ENV = {"POSTDODO_LEASE_SECONDS": "2", "POSTDODO_RATE_LIMIT": "100000/minute", "POSTDODO_WORKERS": "8"}
FAULTS = {
    "lookup": '{"latency_ms": 50}',
    # a platform like Mastodon: no lookup, but a repeated create within the hour answers with the original
    "idempotency_key": '{"latency_ms": 50, "no_lookup": true, "idempotency_seconds": 3600}',
}


@pytest.mark.slow
@pytest.mark.parametrize("platform", sorted(FAULTS))
def test_kill_dash_nine_loses_nothing_and_duplicates_nothing(tmp_path: Path, platform: str) -> None:
    env = ENV | {"POSTDODO_SANDBOX_FAULTS": FAULTS[platform]}
    server = start_server(tmp_path, extra_env=env)
    session = server.session()
    accounts = [a["id"] for a in session.get(f"{server.url}/v1/accounts").json()["data"]
                if a["platform"] != "instagram"]  # instagram needs media; the others take text
    extra = session.post(f"{server.url}/v1/accounts", json={"platform": "threads", "mode": "sandbox"}).json()["id"]
    accounts.append(extra)
    assert len(accounts) == 4
    for i in range(250):
        response = session.post(f"{server.url}/v1/posts", json={"caption": f"crash test {i}", "account_ids": accounts})
        assert response.status_code == 201
    db = Database(server.env["POSTDODO_DATABASE_URL"])

    def confirmed() -> int:
        with db.read() as conn:
            return len(conn.execute(select(targets.c.id).where(targets.c.status == "confirmed")).all())

    wait_until(lambda: confirmed() >= 150, timeout=60, what="some targets to confirm")
    server.stop(kill=True)  # SIGKILL: no cleanup, leases left behind
    before = confirmed()
    assert before < 1000, "the crash came too late to test anything"

    restarted = start_server(tmp_path, extra_env=env)
    try:
        def all_final() -> bool:
            with db.read() as conn:
                return not conn.execute(select(targets.c.id).where(
                    targets.c.status.notin_(("confirmed", "failed", "canceled"))).limit(1)).first()
        wait_until(all_final, timeout=120, interval=0.25, what="every target final after the restart")
    finally:
        restarted.stop()
    with db.read() as conn:
        statuses = Counter(r.status for r in conn.execute(select(targets.c.status)))
        per_target = Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))
        ids = {r.id for r in conn.execute(select(targets.c.id).where(targets.c.status == "confirmed"))}
    assert statuses == {"confirmed": 1000}
    assert set(per_target) == ids and set(per_target.values()) == {1}


@pytest.mark.slow
def test_kill_dash_nine_restart_takes_the_dead_engines_leases_back_at_once(tmp_path: Path) -> None:
    """Leases of an hour: only the restarted engine knowing its predecessor is dead lets the work finish."""
    env = ENV | {"POSTDODO_LEASE_SECONDS": "3600", "POSTDODO_WEBHOOK_ALLOW_PRIVATE": "1"}
    with bluesky_stub(latency=0.05) as pds:
        server = start_server(tmp_path, extra_env=env)
        db = Database(server.env["POSTDODO_DATABASE_URL"])
        with db.write() as conn:
            workspace = keys_store.create_workspace(conn, "live", test=False)
            _, live_key = keys_store.create_key(conn, workspace)
        live = server.session(live_key)
        bluesky = live.post(f"{server.url}/v1/accounts", json={"platform": "bluesky", "credentials": {
            "identifier": "shop.bsky.social", "app_password": "abcd-efgh-ijkl-mnop", "service": pds.url}})
        assert bluesky.status_code == 201, bluesky.text
        test = server.session()  # the demo workspace: sandbox accounts (a live workspace has none)
        sandbox = [test.post(f"{server.url}/v1/accounts", json={"platform": p, "mode": "sandbox"}).json()["id"]
                   for p in ("mastodon", "threads")]
        for i in range(80):
            for session, accounts in ((live, [bluesky.json()["id"]]), (test, sandbox)):
                response = session.post(f"{server.url}/v1/posts", json={"caption": f"kill {i}", "account_ids": accounts})
                assert response.status_code == 201

        def count(*statuses: str) -> int:
            with db.read() as conn:
                return len(conn.execute(select(targets.c.id).where(targets.c.status.in_(statuses))).all())

        def mid_attempt() -> bool:  # bluesky and sandbox attempts in flight, some work already done
            with db.read() as conn:
                busy = {r.platform for r in conn.execute(select(targets.c.platform).where(
                    targets.c.status == "publishing"))}
            return count("confirmed") >= 20 and {"bluesky", "mastodon"} <= busy

        wait_until(mid_attempt, timeout=60, interval=0.01, what="attempts in flight on both adapters")
        server.stop(kill=True)
        with db.read() as conn:
            held = conn.execute(select(targets.c.lease_until).where(targets.c.status == "publishing")).scalars().all()
        assert held and count("confirmed") < 240, "the crash came too late to test anything"

        restarted = start_server(tmp_path, extra_env=env)
        try:
            wait_until(lambda: count("confirmed", "failed", "canceled") == 240, timeout=120, interval=0.25,
                       what="every target final after the restart, with leases of an hour")
        finally:
            restarted.stop()
        assert any("are dead: taking their leases back" in line for line in restarted.output), restarted.output
        with db.read() as conn:
            statuses = Counter(conn.execute(select(targets.c.status)).scalars())
            rkeys = {tid_for(r.id) for r in conn.execute(select(targets.c.id).where(targets.c.platform == "bluesky"))}
            per_target = Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))
        db.dispose()
        assert statuses == {"confirmed": 240}
        assert set(pds.created) == rkeys and set(pds.created.values()) == {1}  # each Bluesky post made once
        assert len(per_target) == 160 and set(per_target.values()) == {1}


@pytest.mark.slow
def test_kill_dash_nine_of_a_scaled_engine_hands_its_claims_to_the_next_one_at_once(
        pg_url: str, redis_url: str) -> None:
    """`postdodo engine` on PostgreSQL + Redis, killed with claims in Redis: its successor frees them at once."""
    rq_url = fresh_redis_db(redis_url, 11)
    api = make_api(pg_url, redis_url=rq_url)
    key = api.new_key()
    accounts = [api.sandbox_account(key, p)["id"] for p in ("bluesky", "mastodon", "threads")]
    for i in range(4):
        assert api.call("POST", "/v1/posts", key, json={"caption": f"scaled {i}", "account_ids": accounts}).status_code == 201
    idle_workers(rq_url, 2)  # room for four claims, nobody to run them yet
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")} | {
        "POSTDODO_DATABASE_URL": pg_url, "POSTDODO_REDIS_URL": rq_url, "POSTDODO_SECRET_KEY": SECRET,
        "POSTDODO_LEASE_SECONDS": "3600", "POSTDODO_TICK_SECONDS": "0.1"}

    def engine() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "postdodo_connect", "engine"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def rows() -> list[Any]:
        with api.db.read() as conn:
            return list(conn.execute(select(targets.c.id, targets.c.status, targets.c.attempts, targets.c.error)))

    first = engine()
    try:
        wait_until(lambda: sum(r.status == "publishing" for r in rows()) == 4, timeout=30, what="four claims")
    finally:
        first.kill()  # SIGKILL: its four claims stay leased for an hour, their jobs queued in Redis
        first.wait()
    claimed = {r.id for r in rows() if r.status == "publishing"}
    second = engine()
    try:
        wait_until(lambda: all(r.attempts == 2 or r.status == "retrying" for r in rows() if r.id in claimed),
                   timeout=30, what="the dead engine's claims taken back")
        for _ in range(12):  # each burst runs what is queued (the dead engine's stale jobs stand down)
            rq.run_worker(database_url=pg_url, redis_url=rq_url, secret_key=SECRET)
            if all(r.status == "confirmed" for r in rows()):
                break
            wait_until(lambda: Redis.from_url(rq_url).llen(f"rq:queue:{PUBLISH_QUEUE}") > 0, timeout=30,
                       what="the next claims")
    finally:
        second.terminate()
        second.wait(30)
    with api.db.read() as conn:
        per_target = Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))
    assert {r.status for r in rows()} == {"confirmed"}
    assert len(per_target) == 12 and set(per_target.values()) == {1}
    api.db.dispose()
