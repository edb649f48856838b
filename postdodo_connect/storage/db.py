"""The database handle: one SQLAlchemy engine, read and write transactions (the schema is storage/migrate.py's)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine

from .prepared import Conn, DriverTransaction
from .schema import metadata


def _begin_immediate(dbapi_connection: Any, patience: float = 30.0) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in short naps.

    SQLite's own busy handler sleeps in growing steps of up to 100 ms, so under steady contention
    between processes (gunicorn workers, engine and API) most of the time goes to sleeping.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        deadline, nap = time.monotonic() + patience, 0.0002
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(nap)
            nap = min(nap * 1.5, 0.005)
    finally:
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


_INHERITED: list[Any] = []  # lean connections a forked child got from its parent (see Database._forget_inherited)


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


class Database:
    """SQLite (WAL, immediate write transactions) or PostgreSQL, behind one interface."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            # every worker thread, the scheduler and the API threads keep a connection: a smaller pool
            # would close and reopen SQLite connections (and re-read the schema) under load
            kwargs["pool_size"] = 32
            if ":memory:" in url or url in ("sqlite://", "sqlite:///"):
                raise ValueError("use a file for SQLite: the engine's threads need a shared database")
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine: Engine = create_engine(url, **kwargs)
        self._writer: AbstractContextManager[Any] = threading.RLock() if self.is_sqlite else nullcontext()
        #: idle SQLite driver connections of lean_read/lean_write, and the process they were opened in
        self._lean: list[DriverTransaction] = []
        self._lean_pid = os.getpid()
        if self.is_sqlite:
            self._tune_sqlite(self.engine)

    @staticmethod
    def _tune_sqlite(engine: Engine) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # let SQLAlchemy drive transactions; pysqlite's own BEGIN handling is deferred-only
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # a writer takes the lock up front, so two writers queue instead of deadlocking on upgrade;
            # straight to the driver: this runs on every transaction, SQLAlchemy's execute path would double its cost
            raw: Any = conn.connection.dbapi_connection
            if conn.get_execution_options().get("immediate", False):
                _begin_immediate(raw)
            else:
                raw.execute("BEGIN")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that will write; commits on success, rolls back on error."""
        # SQLite has one writer at a time: this process's threads queue on a lock instead of napping
        # on the database lock (other processes still meet the naps in _begin_immediate)
        # (the pool checkout happens before taking the lock: the lock is the bottleneck under load)
        with self.engine.connect() as conn, self._writer:
            conn = conn.execution_options(immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _take(self) -> DriverTransaction:
        """An idle SQLite driver connection of the lean path, configured like the pool's, outside the pool."""
        if self._lean_pid != os.getpid():  # never use a connection across a fork
            self._forget_inherited()
        try:
            return self._lean.pop()  # list.pop/append are atomic: threads share the stack without a lock
        except IndexError:
            fairy = self.engine.raw_connection()  # the pool's "connect" hook has set its pragmas
            fairy.detach()  # the pool forgets it; it lives on this stack (as many as ran at once)
            return DriverTransaction(self.engine.dialect, fairy.dbapi_connection)

    def lean_read(self, *, single: bool = False) -> AbstractContextManager[Conn]:
        """A read-only transaction for Prepared statements only (the API's hot path).

        On SQLite it runs straight on a driver connection of the lean stack: SQLAlchemy's checkout,
        transaction objects and events cost more than the indexed reads themselves. On PostgreSQL it is
        `read()`, whose pre-ping and pool keep a restarted server transparent. `single`: the caller runs
        one statement, which SQLite already reads in a transaction of its own (no BEGIN and ROLLBACK).
        """
        if not self.is_sqlite:
            return self.read()
        return _Lean(self, _SINGLE if single else _READ)

    def lean_write(self) -> AbstractContextManager[Conn]:
        """A write transaction for Prepared statements only; as `write()` (same lock, BEGIN IMMEDIATE)."""
        if not self.is_sqlite:
            return self.write()
        return _Lean(self, _WRITE)

    def dispose(self) -> None:
        """Close every pooled connection (after fork, at shutdown)."""
        if self._lean_pid != os.getpid():
            self._forget_inherited()
        lean, self._lean = self._lean, []
        for conn in lean:
            conn.dbapi_connection.close()
        self.engine.dispose()

    def _forget_inherited(self) -> None:
        # a forked child must neither use nor close its parent's SQLite connections (closing may checkpoint
        # under the parent's feet): keep them referenced, so garbage collection never closes them either
        _INHERITED.extend(self._lean)
        self._lean, self._lean_pid = [], os.getpid()

    def drop_all(self) -> None:
        """Drop every table, the migrations' record included (tests only)."""
        with self.engine.begin() as conn:
            metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


_SINGLE, _READ, _WRITE = range(3)  # what a _Lean runs around its statements


class _Lean:
    """`lean_read`/`lean_write` on SQLite: one transaction on a connection of the lean stack.

    A class rather than a @contextmanager generator: that machinery cost about 11k instructions a use, more
    than the indexed read inside, and the API's hot requests open two.
    """

    __slots__ = ("_db", "_mode", "_conn")

    def __init__(self, db: Database, mode: int) -> None:
        self._db, self._mode = db, mode

    def __enter__(self) -> DriverTransaction:
        conn = self._conn = self._db._take()
        try:
            if self._mode == _READ:
                conn.dbapi_connection.execute("BEGIN")
            elif self._mode == _WRITE:
                # one writer at a time in this process, as write() (the lock is taken after the connection)
                self._db._writer.__enter__()
                try:
                    _begin_immediate(conn.dbapi_connection)
                except BaseException:
                    self._db._writer.__exit__(None, None, None)
                    raise
        except BaseException:
            self._db._lean.append(conn)
            raise
        return conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        conn, mode = self._conn, self._mode
        raw = conn.dbapi_connection
        try:
            if mode == _READ:
                raw.execute("ROLLBACK")  # nothing was written: this only ends the snapshot
            elif mode == _WRITE:
                try:
                    if exc_type is None:
                        raw.execute("COMMIT")
                finally:
                    if raw.in_transaction:  # an error before or during COMMIT
                        raw.execute("ROLLBACK")
                    self._db._writer.__exit__(None, None, None)
        finally:
            self._db._lean.append(conn)


__all__ = ["Database", "utcnow"]
