"""Group commit: many threads' small write transactions share one commit.

SQLite has one writer at a time. Under the embedded engine's thread pool, every publish attempt's
outcome was its own write transaction, and the writer lock, not the platform, set the pace. Here a
caller hands over a function of the connection and blocks until the transaction holding it has
committed, so what a caller gets back is exactly as durable as before; meanwhile every outcome that
arrived joins the same transaction.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Connection

from .db import Database

T = TypeVar("T")
Work = Callable[[Connection], Any]


class GroupCommit:
    """A writer thread that runs queued work in shared transactions of up to `max_batch` items."""

    def __init__(self, db: Database, *, max_batch: int = 64) -> None:
        self.db, self.max_batch = db, max_batch
        self._queue: queue.SimpleQueue[tuple[Work, Future[Any]] | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="postdodo-group-commit", daemon=True)
        self._thread.start()

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work(conn)` in a write transaction; returns its result once that transaction committed."""
        if self._closed:
            raise RuntimeError("group commit is closed")
        done: Future[T] = Future()
        self._queue.put((work, done))
        return done.result()

    def close(self) -> None:
        """Finish what is queued, then stop the writer thread."""
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)
        while True:  # whatever slipped in behind the stop marker must not wait forever
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                item[1].set_exception(RuntimeError("group commit is closed"))

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Work, Future[Any]]]) -> None:
        try:
            with self.db.write() as conn:
                results = [work(conn) for work, _ in batch]
        except Exception as exc:
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            # one item failed and took the shared transaction with it: give each its own
            for item in batch:
                self._commit([item])
            return
        for (_, done), result in zip(batch, results, strict=True):
            done.set_result(result)


def commit(db: Database, work: Callable[[Connection], T], group: GroupCommit | None = None) -> T:
    """`work(conn)` in a committed write transaction: `group`'s shared one when given, else its own."""
    if group is not None:
        return group.run(work)
    with db.write() as conn:
        return work(conn)


__all__ = ["GroupCommit", "commit"]
