"""kill -9 mid-flight: after a restart every target is final and published exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from postdodo_connect.storage import Database
from postdodo_connect.storage.schema import sandbox_posts, targets
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
