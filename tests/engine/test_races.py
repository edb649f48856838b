"""Concurrency: cancel racing claims, and two engine processes on one PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from postdodo_connect.storage.schema import sandbox_posts, targets
from tests.engine.conftest import build_engine
from tests.support.server import wait_until


def test_cancel_racing_claims_never_both(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'race.db'}")
    key = engine.api.new_key()
    accts = [engine.api.sandbox_account(key, "mastodon", handle=f"m{i}")["id"] for i in range(5)]
    posts = [engine.post(key, accts) for _ in range(20)]
    start = threading.Barrier(2)

    def cancel_all() -> None:
        start.wait()
        for post in posts:
            engine.api.call("DELETE", f"/v1/posts/{post['id']}", key)

    def publish_all() -> None:
        start.wait()
        while engine.tick():
            pass

    threads = [threading.Thread(target=cancel_all), threading.Thread(target=publish_all)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    while engine.tick():
        pass
    with engine.api.db.read() as conn:
        rows = conn.execute(select(targets.c.id, targets.c.status)).all()
        published = Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))
    statuses = Counter(r.status for r in rows)
    assert set(statuses) <= {"confirmed", "canceled"} and sum(statuses.values()) == 100
    confirmed = {r.id for r in rows if r.status == "confirmed"}
    assert set(published) == confirmed  # a canceled target was never published, a confirmed one exactly once
    assert all(n == 1 for n in published.values())


def test_two_engine_processes_on_postgresql_never_double_publish(tmp_path: Path, pg_url: str) -> None:
    engine = build_engine(pg_url)
    key = engine.api.new_key()
    accts = [engine.api.sandbox_account(key, "bluesky", handle=f"b{i}", sandbox={"latency_ms": 5})["id"]
             for i in range(10)]
    for _ in range(30):
        engine.post(key, accts)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTDODO_")}
    env |= {"POSTDODO_DATABASE_URL": pg_url, "POSTDODO_SECRET_KEY": "test-secret-key-0123456789",
            "POSTDODO_WORKERS": "4", "POSTDODO_TICK_SECONDS": "0.05", "POSTDODO_CLAIM_BATCH": "20"}
    procs = [subprocess.Popen([sys.executable, "-m", "postdodo_connect", "engine"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        def all_final() -> bool:
            with engine.api.db.read() as conn:
                return not conn.execute(select(targets.c.id).where(targets.c.status != "confirmed").limit(1)).first()
        wait_until(all_final, timeout=90, interval=0.2, what="300 targets confirmed by two engines")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)
    with engine.api.db.read() as conn:
        refs = Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))
    assert len(refs) == 300 and set(refs.values()) == {1}
