"""The storage layer on both databases: keys, accounts, posts, claims, status roll-up, events."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from postdodo_connect.storage import Database, accounts, events, keys, posts, work
from postdodo_connect.storage.schema import targets

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def setup_post(db: Database, n_accounts: int = 2, scheduled_at: datetime | None = None) -> tuple[str, dict]:
    with db.write() as conn:
        ws = keys.create_workspace(conn, "w", test=True)
        accts = [accounts.create_account(conn, ws["id"], platform="bluesky", handle=f"h{i}", mode="sandbox")
                 for i in range(n_accounts)]
        post = posts.create_post(conn, ws["id"], caption="hi", media=[], scheduled_at=scheduled_at,
                                 accounts=accts, now=NOW)
    return ws["id"], post


def test_keys_hashing_rotation_and_revocation(db: Database) -> None:
    with db.write() as conn:
        ws = keys.create_workspace(conn, "acme", test=False)
        row, key = keys.create_key(conn, ws)
    assert key.startswith("pd_live_") and len(key) > 30
    assert row["hash"] != key and key not in row["hint"]
    with db.read() as conn:
        assert keys.authenticate(conn, key)["id"] == ws["id"]
        assert keys.authenticate(conn, key + "x") is None
    with db.write() as conn:
        new_row, new_key = keys.rotate_key(conn, row["id"])
    with db.read() as conn:
        assert keys.authenticate(conn, key) is None
        assert keys.authenticate(conn, new_key)["id"] == ws["id"]
        listed = keys.list_keys(conn)
    assert [(k["id"], k["revoked_at"] is not None) for k in listed] == [(row["id"], True), (new_row["id"], False)]
    with db.write() as conn:
        assert keys.revoke_key(conn, new_row["id"]) is not None
        assert keys.revoke_key(conn, new_row["id"]) is None
    with db.read() as conn:
        assert keys.authenticate(conn, new_key) is None


def test_post_roundtrip_and_pagination(db: Database) -> None:
    ws_id, post = setup_post(db, scheduled_at=NOW + timedelta(hours=1))
    with db.read() as conn:
        found = posts.get_post(conn, ws_id, post["id"])
        assert found["scheduled_at"] == NOW + timedelta(hours=1)
        assert found["scheduled_at"].tzinfo is not None
        assert [t["status"] for t in found["targets"]] == ["scheduled", "scheduled"]
        assert posts.get_post(conn, "ws_other", post["id"]) is None
        assert [e["type"] for e in events.list_events(conn, ws_id)] == ["post.scheduled"]
    with db.write() as conn:
        accts = accounts.list_accounts(conn, ws_id)
        for i in range(5):
            posts.create_post(conn, ws_id, caption=f"p{i}", media=[], scheduled_at=None, accounts=accts[:1],
                              now=NOW + timedelta(seconds=i + 1))
    with db.read() as conn:
        page, more = posts.list_posts(conn, ws_id, limit=4)
        assert more and [p["caption"] for p in page] == ["p4", "p3", "p2", "p1"]
        rest, more = posts.list_posts(conn, ws_id, limit=4, after=(page[-1]["created_at"], page[-1]["id"]))
        assert not more and [p["caption"] for p in rest] == ["p0", "hi"]
        by_status, _ = posts.list_posts(conn, ws_id, limit=10, status="scheduled")
        assert [p["caption"] for p in by_status] == ["hi"]


def test_due_query_claims_only_due_targets_once(db: Database) -> None:
    setup_post(db, scheduled_at=NOW + timedelta(hours=1))
    ws_id, post = setup_post(db)
    with db.write() as conn:
        claimed = work.claim_targets(conn, NOW, NOW + timedelta(minutes=5), 100, skip_locked=not db.is_sqlite)
    assert {c.post_id for c in claimed} == {post["id"]} and len(claimed) == 2
    assert all(c.attempts == 1 for c in claimed)
    with db.write() as conn:
        assert work.claim_targets(conn, NOW, NOW + timedelta(minutes=5), 100) == []
    with db.read() as conn:
        assert posts.get_post(conn, ws_id, post["id"])["status"] == "publishing"


def test_concurrent_claimers_never_share_a_target(db: Database) -> None:
    for _ in range(10):
        setup_post(db, n_accounts=10)
    results: list[list[str]] = []
    barrier = threading.Barrier(4)

    def claimer() -> None:
        barrier.wait()
        mine: list[str] = []
        while True:
            with db.write() as conn:
                got = work.claim_targets(conn, NOW, NOW + timedelta(minutes=5), 7, skip_locked=not db.is_sqlite)
            if not got:
                break
            mine += [g.id for g in got]
        results.append(mine)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for r in results for i in r]
    assert len(everything) == 100 and len(set(everything)) == 100


def test_cancel_is_atomic_against_claim(db: Database) -> None:
    ws_id, post = setup_post(db, n_accounts=3)
    with db.write() as conn:
        claimed = work.claim_targets(conn, NOW, NOW + timedelta(minutes=5), 1)
    with db.write() as conn:
        after, canceled = posts.cancel_post(conn, ws_id, post["id"], NOW)
    assert canceled == 2
    statuses = sorted(t["status"] for t in after["targets"])
    assert statuses == ["canceled", "canceled", "publishing"]
    with db.write() as conn:  # the claimed one can no longer be canceled, the canceled ones never claimed
        assert work.claim_targets(conn, NOW, NOW + timedelta(minutes=5), 10) == []
        assert work.finish_target(conn, claimed[0].id, 1, NOW, status="confirmed", permalink="https://x/1")
        assert posts.refresh_status(conn, post["id"], NOW) == "partially_published"
    with db.read() as conn:
        kinds = [e["type"] for e in events.list_events(conn, ws_id)]
    assert kinds == ["post.canceled", "post.completed"]


@pytest.mark.parametrize(("statuses", "expected"), [
    (["scheduled", "scheduled"], "scheduled"),
    (["scheduled", "canceled"], "scheduled"),
    (["publishing", "scheduled"], "publishing"),
    (["retrying", "confirmed"], "publishing"),
    (["confirmed", "confirmed"], "published"),
    (["confirmed", "failed"], "partially_published"),
    (["failed", "failed"], "failed"),
    (["failed", "canceled"], "failed"),
    (["canceled", "canceled"], "canceled"),
])
def test_rollup(statuses: list[str], expected: str) -> None:
    assert posts.rollup(statuses) == expected


def test_expired_leases_are_taken_back_once(db: Database) -> None:
    setup_post(db, n_accounts=1)
    with db.write() as conn:
        claimed = work.claim_targets(conn, NOW, NOW + timedelta(seconds=10), 10)
    later = NOW + timedelta(seconds=11)
    with db.write() as conn:
        assert work.take_back(conn, targets, "publishing", NOW + timedelta(seconds=5), 10, to="retrying") == 0
        expired = work.expired_leases(conn, targets, "publishing", later, 10)
        assert [e.id for e in expired] == [claimed[0].id]
        assert work.take_back(conn, targets, "publishing", later, 10, to="retrying") == 1
        assert work.take_back(conn, targets, "publishing", later, 10, to="retrying") == 0
        row = conn.execute(select(targets.c.status, targets.c.lease_until, targets.c.next_attempt_at)
                           .where(targets.c.id == claimed[0].id)).one()
    assert (row.status, row.lease_until, row.next_attempt_at) == ("retrying", None, later)
