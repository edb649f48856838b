"""Which pip extra provides a missing module: the bare install is the client library only (see pyproject.toml)."""

from __future__ import annotations

__all__ = ["OPTIONAL_MODULES", "install_hint"]

#: top-level modules the [server] and [receiver] extras bring (the bare package never imports them)
OPTIONAL_MODULES = frozenset({
    "alembic", "argon2", "cryptography", "flask", "gunicorn", "hiredis", "itsdangerous", "limits",
    "prometheus_client", "redis", "regex", "rq", "sqlalchemy", "werkzeug",
})
#: database drivers: SQLAlchemy imports them when a postgresql+psycopg:// URL is first used
_POSTGRES_MODULES = frozenset({"psycopg", "psycopg_binary"})


def install_hint(exc: ImportError, what: str, extra: str) -> str | None:
    """The one line to print when `exc` is an optional dependency `what` needs, else None (a real bug)."""
    root = (exc.name or "").partition(".")[0]
    if root in _POSTGRES_MODULES:
        extra = "postgres"
    elif root not in OPTIONAL_MODULES:
        return None
    return (f"error: {what} needs the {extra} extra (module {root!r} is missing): "
            f"pip install 'postdodo-connect[{extra}]'")
