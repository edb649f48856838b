"""Group commit: callers get their own result after a shared commit; one failure costs only its caller."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, insert, select

from postdodo_connect.storage import Database
from postdodo_connect.storage.group_commit import GroupCommit
from postdodo_connect.storage.schema import workspaces

WHEN = datetime(2026, 11, 30, tzinfo=UTC)


def _add(name: str) -> Callable[[Connection], str]:
    def work(conn: Connection) -> str:
        conn.execute(insert(workspaces).values(id=f"ws_{name}", name=name, mode="test", created_at=WHEN))
        return name
    return work


def _count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(workspaces)).scalar_one())


def test_every_caller_gets_its_result_once_committed(db: Database) -> None:
    group = GroupCommit(db, max_batch=8)
    results: list[str] = []
    barrier = threading.Barrier(20)

    def caller(i: int) -> None:
        barrier.wait()
        results.append(group.run(_add(str(i))))
        # durable when run() returns: another connection sees the row already
        with db.read() as conn:
            assert conn.execute(select(workspaces.c.id).where(workspaces.c.id == f"ws_{i}")).first() is not None

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    group.close()
    assert sorted(results, key=int) == [str(i) for i in range(20)]
    assert _count(db) == 20


def test_a_failing_item_fails_alone(db: Database) -> None:
    group = GroupCommit(db)
    duplicate = _add("a")  # the second insert of the same id violates the primary key
    outcomes: dict[str, object] = {}
    barrier = threading.Barrier(4)

    def caller(key: str, work: Callable[[Connection], str]) -> None:
        barrier.wait()
        try:
            outcomes[key] = group.run(work)
        except Exception as exc:  # noqa: BLE001 - the test records what each caller saw
            outcomes[key] = exc

    calls = [("first", duplicate), ("second", duplicate), ("b", _add("b")), ("c", _add("c"))]
    threads = [threading.Thread(target=caller, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    group.close()
    failed = [k for k, v in outcomes.items() if isinstance(v, Exception)]
    assert len(failed) == 1 and failed[0] in ("first", "second")
    assert outcomes["b"] == "b" and outcomes["c"] == "c"
    assert _count(db) == 3


def test_close_finishes_queued_work(db: Database) -> None:
    group = GroupCommit(db)
    assert group.run(_add("x")) == "x"
    group.close()
    assert _count(db) == 1
    with pytest.raises(RuntimeError):
        group.run(_add("late"))
