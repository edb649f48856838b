"""kill -9 of `postdodo serve` in the middle of threads: after the restart every item exists exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from postdodo_connect.platforms import adapter_class
from postdodo_connect.storage import Database
from postdodo_connect.storage.schema import sandbox_posts, targets
from tests.support.server import start_server, wait_until

ITEMS = 5
POSTS = 12
FAULTS = {
    # a platform with a lookup (the sandbox finds an item by its key)
    "lookup": '{"latency_ms": 40}',
    # like Mastodon: no lookup, but a repeated create within the hour answers with the original
    "idempotency_key": '{"latency_ms": 40, "no_lookup": true, "idempotency_seconds": 3600}',
}


@pytest.mark.slow
@pytest.mark.parametrize("faults", sorted(FAULTS))
def test_kill_dash_nine_mid_thread_posts_each_item_once(tmp_path: Path, faults: str) -> None:
    env = {"POSTDODO_LEASE_SECONDS": "2", "POSTDODO_RATE_LIMIT": "100000/minute", "POSTDODO_WORKERS": "8",
           "POSTDODO_SANDBOX_FAULTS": FAULTS[faults]}
    server = start_server(tmp_path, extra_env=env)
    session = server.session()
    accounts = [a["id"] for a in session.get(f"{server.url}/v1/accounts").json()["data"]
                if adapter_class(a["platform"]).has_thread]
    assert accounts
    thread = [{"caption": f"item {n}"} for n in range(2, ITEMS + 2)]
    for i in range(POSTS):
        response = session.post(f"{server.url}/v1/posts", json={
            "caption": f"thread {i}", "account_ids": accounts, "thread": [{"caption": f"{t['caption']} of {i}"}
                                                                          for t in thread]})
        assert response.status_code == 201, response.text
    db = Database(server.env["POSTDODO_DATABASE_URL"])
    total = POSTS * len(accounts) * (ITEMS + 1)

    def posted() -> int:
        with db.read() as conn:
            return len(conn.execute(select(sandbox_posts.c.id)).all())

    wait_until(lambda: posted() >= total // 3, timeout=90, what="a third of the thread items")
    server.stop(kill=True)  # SIGKILL: items in flight, leases left behind
    assert posted() < total, "the crash came too late to test anything"

    restarted = start_server(tmp_path, extra_env=env)
    try:
        def all_done() -> bool:
            with db.read() as conn:
                rows = conn.execute(select(targets.c.status, targets.c.thread)).all()
            return all(r.status == "confirmed" and r.thread["status"] != "pending" for r in rows)

        wait_until(all_done, timeout=180, interval=0.25, what="every thread done after the restart")
    finally:
        restarted.stop()
    with db.read() as conn:
        rows = conn.execute(select(targets.c.id, targets.c.thread)).all()
        per_reference = Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))
    db.dispose()
    assert {r.thread["status"] for r in rows} == {"published"}
    expected = {r.id for r in rows} | {f"{r.id}.thread.{n}" for r in rows for n in range(1, ITEMS + 1)}
    assert set(per_reference) == expected and set(per_reference.values()) == {1}  # exactly one post per item
