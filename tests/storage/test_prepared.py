"""Prepared statements return exactly what SQLAlchemy's own execute returns, on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, func, insert, select, update

from postdodo_connect.storage import Database
from postdodo_connect.storage.prepared import Prepared
from postdodo_connect.storage.schema import posts, workspaces

WHEN = datetime(2026, 11, 30, 12, 30, 15, 123456, tzinfo=UTC)
_INSERT = Prepared(insert(posts), columns=("id", "workspace_id", "status", "caption", "media", "scheduled_at",
                                            "created_at", "updated_at"))
_BY_ID = Prepared(select(posts).where(posts.c.id == bindparam("id")))
_RESCHEDULE = Prepared(update(posts).where(posts.c.id == bindparam("id"), posts.c.status == "scheduled")
                       .values(scheduled_at=bindparam("at")))


def _workspace(db: Database) -> None:
    with db.write() as conn:
        conn.execute(insert(workspaces).values(id="ws_1", name="w", mode="test", created_at=WHEN))


def _post(post_id: str, **extra: object) -> dict[str, object]:
    return {"id": post_id, "workspace_id": "ws_1", "status": "scheduled", "caption": "héllo 🎉",
            "media": [{"type": "image", "url": "https://example.com/a.png"}], "scheduled_at": WHEN,
            "created_at": WHEN, "updated_at": WHEN} | extra


def test_rows_match_sqlalchemy(db: Database) -> None:
    _workspace(db)
    with db.write() as conn:
        _INSERT.run_many(conn, [_post("post_1"), _post("post_2", scheduled_at=None)])
    with db.read() as conn:
        mine = [_BY_ID.first(conn, {"id": i}) for i in ("post_1", "post_2")]
        theirs = [dict(conn.execute(select(posts).where(posts.c.id == i)).one()._mapping) for i in ("post_1", "post_2")]
    assert mine == theirs
    assert mine[0] is not None and mine[0]["scheduled_at"] == WHEN and mine[0]["media"][0]["type"] == "image"


def test_literals_in_the_statement_still_apply(db: Database) -> None:
    _workspace(db)
    with db.write() as conn:
        _INSERT.run(conn, _post("post_1", status="published"))
        # status == "scheduled" is a literal of the statement: a published post is not touched
        assert _RESCHEDULE.run(conn, {"id": "post_1", "at": WHEN}) == 0
        _INSERT.run(conn, _post("post_2"))
        assert _RESCHEDULE.run(conn, {"id": "post_2", "at": None}) == 1
    with db.read() as conn:
        assert _BY_ID.first(conn, {"id": "post_2"})["scheduled_at"] is None  # type: ignore[index]
        assert _BY_ID.first(conn, {"id": "missing"}) is None


def test_a_rollback_undoes_prepared_writes(db: Database) -> None:
    _workspace(db)
    with pytest.raises(RuntimeError), db.write() as conn:
        _INSERT.run(conn, _post("post_1"))
        raise RuntimeError("boom")
    with db.read() as conn:
        assert _BY_ID.rows(conn, {"id": "post_1"}) == []


def test_a_missing_parameter_is_an_error_not_null(db: Database) -> None:
    with db.read() as conn, pytest.raises(KeyError, match="id"):
        _BY_ID.first(conn, {})


def test_expanding_parameters_are_refused(db: Database) -> None:
    statement = Prepared(select(posts).where(posts.c.id.in_(bindparam("ids", expanding=True))))
    with db.read() as conn, pytest.raises(ValueError, match="expanding"):
        statement.rows(conn, {"ids": ["a"]})


def test_lean_transactions_read_and_write_what_the_others_do(db: Database) -> None:
    _workspace(db)
    with db.lean_write() as conn:
        _INSERT.run_many(conn, [_post("post_1"), _post("post_2", scheduled_at=None)])
    with db.lean_read() as lean, db.read() as full:
        assert [_BY_ID.first(lean, {"id": i}) for i in ("post_1", "post_2")] == \
            [dict(full.execute(select(posts).where(posts.c.id == i)).one()._mapping) for i in ("post_1", "post_2")]
    # and the full path reads what the lean one wrote, times included
    with db.read() as conn:
        assert conn.execute(select(posts.c.scheduled_at).where(posts.c.id == "post_1")).scalar_one() == WHEN


def test_a_failed_lean_write_stores_nothing_and_the_connection_goes_on(db: Database) -> None:
    _workspace(db)
    with pytest.raises(RuntimeError), db.lean_write() as conn:
        _INSERT.run(conn, _post("post_1"))
        raise RuntimeError("boom")
    with pytest.raises(Exception, match="(?i)unique|duplicate"), db.lean_write() as conn:
        _INSERT.run(conn, _post("post_2"))
        _INSERT.run(conn, _post("post_2"))  # the database refuses: the whole transaction goes
    with db.lean_write() as conn:
        _INSERT.run(conn, _post("post_3"))
    with db.lean_read() as conn:
        assert [_BY_ID.first(conn, {"id": i}) is not None for i in ("post_1", "post_2", "post_3")] == [False, False, True]


def test_lean_transactions_from_many_threads_share_few_connections(db: Database) -> None:
    _workspace(db)

    def work(n: int) -> None:
        for i in range(20):
            with db.lean_write() as conn:
                _INSERT.run(conn, _post(f"post_{n}_{i}"))
            with db.lean_read() as conn:
                assert _BY_ID.first(conn, {"id": f"post_{n}_{i}"}) is not None

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]  # a thread per request, as some servers do
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(posts)).scalar_one() == 120
    if db.is_sqlite:
        assert 1 <= len(db._lean) <= 6  # reused, not one per thread that ever ran
