"""Hot statements: Core statements compiled once per dialect and run on the driver's own cursor.

SQLAlchemy's per-execute machinery (cache key, execution context, result proxy, events) costs about
40 µs a statement: more than the indexed read itself, and paid several times by every API request and
every publish attempt. A `Prepared` statement is still written in Core (one code path for SQLite and
PostgreSQL) and still runs inside the caller's SQLAlchemy transaction; it skips only that per-call work.
It also runs on a `DriverTransaction` (`Database.lean_read/lean_write`), the API's hot path on SQLite,
which skips SQLAlchemy's per-transaction work too (connection checkout, transaction objects, events).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.elements import ColumnElement

Processor = Callable[[Any], Any]
_REQUIRED = object()


# Most JSON columns of a row hold JSON null (a target without error, thread or first comment), and the JSON
# type's processors run the json module on every one of them: that cost more than the row's query.
def _json_null_in(processor: Processor) -> Processor:
    null = processor(None)  # what the type stores for None: the text "null" (SQLite), unless none_as_null
    if not isinstance(null, str | None):
        return processor  # an object of the driver's (a JSON wrapper): made for each value, as the type does
    return lambda value: null if value is None else processor(value)


def _json_null_out(processor: Processor) -> Processor:
    return lambda value: None if value == "null" else processor(value)


@dataclass(frozen=True)
class _Plan:
    """One statement as one dialect runs it."""

    sql: str
    positional: bool  # qmark (SQLite) takes a tuple in `order`; pyformat (psycopg) a dict
    order: tuple[str, ...]
    #: per parameter in `order`: its processor and its default (a literal of the statement, else _REQUIRED)
    slots: tuple[tuple[str, Processor | None, Any], ...]
    names: tuple[str, ...]  # result columns
    results: tuple[tuple[str, Processor], ...]  # only the columns that have a result processor


def _result_columns(stmt: Any) -> list[ColumnElement[Any]]:
    if hasattr(stmt, "selected_columns"):
        return list(stmt.selected_columns)
    return list(getattr(stmt, "exported_columns", ()) or ())


@dataclass(frozen=True)
class DriverTransaction:
    """A driver connection inside a transaction its owner opened: Prepared statements only."""

    dialect: Dialect
    dbapi_connection: Any


#: what a Prepared statement runs on
Conn = Connection | DriverTransaction


def _driver_cursor(conn: Conn) -> Any:
    """A cursor of the driver connection under `conn`, inside its transaction."""
    if isinstance(conn, DriverTransaction):
        return conn.dbapi_connection.cursor()
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


class Prepared:
    """A Core statement without expanding parameters, compiled on first use for each dialect."""

    def __init__(self, stmt: ClauseElement, *, columns: Sequence[str] | None = None) -> None:
        #: `columns` names the values an INSERT or UPDATE receives when the statement does not say
        self.stmt, self.columns = stmt, list(columns) if columns is not None else None
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = self._compile(dialect)
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled: Any = self.stmt.compile(dialect=dialect, column_keys=self.columns)
        # keyed by the names the SQL text uses (anonymous literals get theirs at compile time)
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        binds: dict[str, Processor] = {}
        for name, bind in by_name.items():
            if bind.expanding:
                raise ValueError(f"{name}: expanding parameters cannot be prepared")
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binds[name] = _json_null_in(processor) if isinstance(bind.type, JSON) else processor
        columns = _result_columns(self.stmt)
        processors = [_json_null_out(p) if p is not None and isinstance(c.type, JSON) else p
                      for c in columns for p in [c.type.dialect_impl(dialect).result_processor(dialect, None)]]
        order = tuple(compiled.positiontup) if compiled.positional else tuple(by_name)
        slots = tuple((name, binds.get(name), _REQUIRED if by_name[name].required else compiled.params[name])
                      for name in order)
        names = tuple(str(c.key) for c in columns)
        results = tuple((name, p) for name, p in zip(names, processors, strict=True) if p is not None)
        return _Plan(compiled.string, bool(compiled.positional), order, slots, names, results)

    @staticmethod
    def _params(plan: _Plan, params: Mapping[str, Any]) -> Any:
        # one pass in the driver's order: this runs for every row of every hot statement
        values = []
        for name, processor, default in plan.slots:
            value = params.get(name, default)
            if value is _REQUIRED:
                raise KeyError(f"missing parameter {name!r} for {plan.sql!r}")
            values.append(value if processor is None else processor(value))
        return tuple(values) if plan.positional else dict(zip(plan.order, values, strict=True))

    def _cursor(self, conn: Conn, params: Mapping[str, Any]) -> tuple[_Plan, Any]:
        plan = self._plan(conn.dialect)
        cursor = _driver_cursor(conn)
        cursor.execute(plan.sql, self._params(plan, params))
        return plan, cursor

    @staticmethod
    def _row(plan: _Plan, raw: Sequence[Any]) -> dict[str, Any]:
        row = dict(zip(plan.names, raw, strict=True))  # in C; then only the few columns that need converting
        for name, processor in plan.results:
            value = row[name]
            if value is not None:
                row[name] = processor(value)
        return row

    def rows(self, conn: Conn, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row, as dicts keyed by column name."""
        plan, cursor = self._cursor(conn, params or {})
        try:
            return [self._row(plan, raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, conn: Conn, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The first row, or None."""
        plan, cursor = self._cursor(conn, params or {})
        try:
            raw = cursor.fetchone()
            return None if raw is None else self._row(plan, raw)
        finally:
            cursor.close()

    def run(self, conn: Conn, params: Mapping[str, Any] | None = None) -> int:
        """Execute for its effect; the number of rows it changed."""
        _, cursor = self._cursor(conn, params or {})
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, conn: Conn, rows: Iterable[Mapping[str, Any]]) -> None:
        """Execute once per parameter set (bulk INSERT)."""
        plan = self._plan(conn.dialect)
        batch = [self._params(plan, row) for row in rows]
        if not batch:
            return
        cursor = _driver_cursor(conn)
        try:
            cursor.executemany(plan.sql, batch)
        finally:
            cursor.close()


__all__ = ["Conn", "DriverTransaction", "Prepared"]
