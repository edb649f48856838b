"""kill -9 mid-flight: after a restart every target is final and published exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from postdodo_connect.platforms.bluesky import tid_for
from postdodo_connect.storage import Database
from postdodo_connect.storage import keys as keys_store
from postdodo_connect.storage.schema import sandbox_posts, targets
from tests.support.bluesky_stub import bluesky_stub
from tests.support.server import start_server, wait_until

ENV = {"POSTDODO_LEASE_SECONDS": "2", "POSTDODO_RATE_LIMIT": "100000/minute", "POSTDODO_WORKERS": "8",
       "POSTDODO_SANDBOX_FAULTS": '{"latency_ms": 50}'}


@pytest.mark.slow
def test_kill_dash_nine_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    server = start_server(tmp_path, extra_env=ENV)
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

    restarted = start_server(tmp_path, extra_env=ENV)
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
