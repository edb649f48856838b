"""Each event of a post carries `data.sequence`: 1, 2, 3... in commit order, also under concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from postdodo_connect.storage import Database, accounts, events, keys, posts

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def setup_post(db: Database, n_accounts: int = 2) -> tuple[str, dict]:
    with db.write() as conn:
        ws = keys.create_workspace(conn, "w", test=True)
        accts = [accounts.create_account(conn, ws["id"], platform="bluesky", handle=f"h{i}", mode="sandbox")
                 for i in range(n_accounts)]
        post = posts.create_post(conn, ws["id"], caption="hi", media=[], scheduled_at=NOW + timedelta(hours=1),
                                 accounts=accts, now=NOW)
    return ws["id"], post


def sequences(db: Database, ws_id: str, post_id: str) -> list[tuple[str, int | None]]:
    with db.read() as conn:
        return [(e["type"], e["data"].get("sequence")) for e in events.list_events(conn, ws_id, post_id=post_id)]


def test_a_posts_events_are_numbered_in_order(db: Database) -> None:
    ws_id, post = setup_post(db)
    other_ws, other = setup_post(db)
    with db.write() as conn:
        for target in post["targets"]:
            events.emit(conn, ws_id, "post.published", {"post_id": post["id"], "account_id": target["account_id"]},
                        post_id=post["id"], now=NOW)
        events.emit(conn, ws_id, "post.completed", {"post_id": post["id"], "status": "published"},
                    post_id=post["id"], now=NOW)
        # not a post's event: no sequence, and it does not count
        disconnected = events.emit(conn, ws_id, "account.disconnected", {"account_id": "acct_x"}, now=NOW)
    assert sequences(db, ws_id, post["id"]) == [("post.scheduled", 1), ("post.published", 2), ("post.published", 3),
                                                ("post.completed", 4)]
    assert sequences(db, other_ws, other["id"]) == [("post.scheduled", 1)]  # another post counts on its own
    assert "sequence" not in disconnected["data"]


def test_cancel_continues_the_sequence(db: Database) -> None:
    ws_id, post = setup_post(db, n_accounts=1)
    with db.write() as conn:
        posts.cancel_post(conn, ws_id, post["id"], NOW)
    assert sequences(db, ws_id, post["id"]) == [("post.scheduled", 1), ("post.canceled", 2)]


def test_concurrent_writers_never_share_a_number(db: Database) -> None:
    ws_id, post = setup_post(db)
    threads_n, per_thread = 6, 5
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            start.wait(timeout=30)
            for n in range(per_thread):
                with db.write() as conn:
                    events.emit(conn, ws_id, "post.retrying", {"post_id": post["id"], "writer": index, "n": n},
                                post_id=post["id"], now=NOW)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    numbers = sorted(number or 0 for _, number in sequences(db, ws_id, post["id"]))
    assert numbers == list(range(1, threads_n * per_thread + 2))  # + the post.scheduled event


def test_purging_a_posts_old_events_never_makes_a_number_repeat(db: Database) -> None:
    from postdodo_connect.storage.retention import Purger, Retention

    ws_id, post = setup_post(db, n_accounts=1)  # post.scheduled is 1
    # a post scheduled months ahead: retention removes its first event long before it publishes
    Purger(db, Retention()).purge(NOW + timedelta(days=40))
    assert sequences(db, ws_id, post["id"]) == []
    with db.write() as conn:
        events.emit(conn, ws_id, "post.published", {"post_id": post["id"]}, post_id=post["id"], now=NOW)
    assert sequences(db, ws_id, post["id"]) == [("post.published", 2)]  # a consumer that saw 1 still applies it
