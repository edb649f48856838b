"""A stopping engine lets running attempts finish within a bound and hands back every lease it still holds."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from postdodo_connect.engine import Runtime
from postdodo_connect.storage.schema import sandbox_posts, targets
from tests.support.factory import Api, make_api
from tests.support.server import wait_until


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> str:
    return f"sqlite:///{tmp_path / 'stop.db'}" if request.param == "sqlite" else pg_url


def rows(api: Api) -> list[Any]:
    with api.db.read() as conn:
        return list(conn.execute(select(targets.c.id, targets.c.status, targets.c.attempts, targets.c.lease_until,
                                        targets.c.error)).all())


def test_stop_hands_back_claimed_work_and_a_new_engine_resumes_at_once(url: str) -> None:
    api = make_api(url, workers=1, tick_seconds=0.05, lease_seconds=300.0,
                   sandbox_faults={"latency_ms": 1})  # every publish calls the sandbox's sleep
    key = api.new_key("stop")
    accounts = [api.sandbox_account(key, p)["id"] for p in ("bluesky", "mastodon", "threads")]
    release, started = threading.Event(), threading.Semaphore(0)

    def stuck(_seconds: float) -> None:  # the platform hangs until the test lets it answer
        started.release()
        release.wait(30)

    first = Runtime(api.service.settings, api.db, sandbox_sleep=stuck)
    first.start()
    api.service.kick = first.kick
    for i in range(2):
        assert api.call("POST", "/v1/posts", key, json={"caption": f"stop {i}", "account_ids": accounts}).status_code == 201
    assert started.acquire(timeout=10)  # one attempt runs (one worker), another is claimed and queued behind it
    wait_until(lambda: sum(r.status == "publishing" for r in rows(api)) == 2, what="a second claim")

    still_running = first.stop(grace=0.2)

    assert still_running == 1
    now = datetime.now(UTC)
    after = rows(api)
    assert not [r for r in after if r.lease_until is not None and r.lease_until.replace(tzinfo=UTC) > now]
    assert Counter(r.status for r in after) == {"scheduled": 5, "retrying": 1}
    running = next(r for r in after if r.status == "retrying")
    # stuck while its platform call was on the wire: the next attempt looks the post up first
    assert running.attempts == 1 and running.error["code"] == "lease_expired"
    assert all(r.attempts == 0 for r in after if r.status == "scheduled")  # the queued claim is undone
    release.set()  # the abandoned attempt ends now: its late result must not overwrite the hand-back
    first.dispatcher.pools["publish"].shutdown(wait=True)  # type: ignore[union-attr]
    assert next(r for r in rows(api) if r.id == running.id).status == "retrying"

    second = Runtime(api.service.settings.with_(sandbox_faults={}), api.db)
    second.start()
    try:
        wait_until(lambda: all(r.status == "confirmed" for r in rows(api)), timeout=30,
                   what="every target confirmed well within the 300 s lease")
    finally:
        second.stop()
    with api.db.read() as conn:
        per_target = Counter(r.reference for r in conn.execute(select(sandbox_posts.c.reference)))
    # the abandoned attempt, released after the hand-back, stopped before its call: nothing reposted
    assert len(per_target) == 6 and set(per_target.values()) == {1}
