"""PATCH racing the scheduler's claim: exactly one wins, cleanly, and what is published is the winner's content."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from postdodo_connect.models import format_time
from postdodo_connect.storage import keys, work
from postdodo_connect.storage import posts as posts_store
from tests.engine.conftest import Engine, build_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Engine:
    url = f"sqlite:///{tmp_path / 'race.db'}" if request.param == "sqlite" else pg_url
    return build_engine(url)


def test_edit_versus_claim_exactly_one_wins(engine: Engine) -> None:
    key = engine.api.new_key()
    outcomes: dict[int, int] = {}
    for round_ in range(6):
        acct = engine.api.sandbox_account(key, "mastodon", handle=f"race{round_}")
        at = engine.clock.now + timedelta(minutes=1)
        post = engine.post(key, [acct["id"]], caption="old", scheduled_at=format_time(at))
        engine.clock.advance(61)  # due now: the claim may take it
        start = threading.Barrier(2)
        answer: dict[str, Any] = {}

        def edit(start: threading.Barrier, answer: dict[str, Any], post_id: str) -> None:
            start.wait()
            answer["response"] = engine.api.call("PATCH", f"/v1/posts/{post_id}", key, json={"caption": "new"})

        editor = threading.Thread(target=edit, args=(start, answer, post["id"]))
        editor.start()
        start.wait()
        engine.tick()
        editor.join()
        status = answer["response"].status_code
        outcomes[status] = outcomes.get(status, 0) + 1
        assert status in (200, 409), answer["response"].get_json()
        engine.tick()  # an edit that won left its new target due: the next tick publishes it
        published = engine.sandbox_posts(acct["id"])
        assert [p["caption"] for p in published] == ["new" if status == 200 else "old"]
        final = engine.get(key, post["id"])
        assert final["status"] == "published"
        assert final["caption"] == ("new" if status == 200 else "old")
    assert sum(outcomes.values()) == 6


def test_an_edit_whose_targets_were_claimed_meanwhile_changes_nothing(engine: Engine) -> None:
    key = engine.api.new_key()
    acct = engine.api.sandbox_account(key, "mastodon")
    post = engine.post(key, [acct["id"]], caption="old", scheduled_at=format_time(engine.clock.now + timedelta(minutes=1)))
    engine.clock.advance(61)
    now = engine.clock()
    with engine.api.db.write() as conn:  # the claim lands between the API's check and its write
        assert len(work.claim_targets(conn, now, now + timedelta(minutes=5), 10)) == 1
    with pytest.raises(posts_store.NotEditable), engine.api.db.write() as conn:
        posts_store.update_post(conn, _workspace(engine, key), post["id"], caption="new", media=[], scheduled_at=None,
                                versions=None, accounts=[{"id": acct["id"], "platform": "mastodon"}],
                                contents=[{"caption": "new", "media": [], "options": {}, "first_comment": None}], now=now)
    after = engine.get(key, post["id"])
    assert after["caption"] == "old" and [t["status"] for t in after["targets"]] == ["publishing"]


def _workspace(engine: Engine, key: str) -> str:
    with engine.api.db.read() as conn:
        found = keys.authenticate(conn, key)
    assert found is not None
    return str(found["id"])
