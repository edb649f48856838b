"""Connected social accounts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from .db import utcnow
from .ids import new_id
from .prepared import Conn, Prepared
from .schema import accounts

PUBLIC = (accounts.c.id, accounts.c.platform, accounts.c.handle, accounts.c.display_name,
          accounts.c.mode, accounts.c.status, accounts.c.created_at)


def create_account(
    conn: Connection,
    workspace_id: str,
    *,
    platform: str,
    handle: str,
    display_name: str = "",
    mode: str,
    credentials: str | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store a new active account; `credentials` is already sealed."""
    row = {
        "id": new_id("acct"), "workspace_id": workspace_id, "platform": platform, "handle": handle,
        "display_name": display_name, "mode": mode, "status": "active", "credentials": credentials,
        "settings": settings or {}, "created_at": utcnow(), "deleted_at": None,
    }
    conn.execute(insert(accounts).values(**row))
    return {c.name: row[c.name] for c in PUBLIC}


def list_accounts(conn: Connection, workspace_id: str) -> list[dict[str, Any]]:
    """The workspace's accounts, oldest first, without deleted ones (with what their health needs)."""
    rows = conn.execute(
        select(*PUBLIC, accounts.c.token_expires_at, accounts.c.scopes, accounts.c.credentials).where(accounts.c.workspace_id == workspace_id, accounts.c.deleted_at.is_(None))
        .order_by(accounts.c.created_at, accounts.c.id)
    )
    return [dict(r._mapping) for r in rows]


# every post creation reads its accounts in one statement; built once per number of ids (a post names a few)
_GET_ACCOUNTS: dict[int, Prepared] = {}


def _get_accounts(count: int) -> Prepared:
    statement = _GET_ACCOUNTS.get(count)
    if statement is None:
        statement = _GET_ACCOUNTS[count] = Prepared(select(*PUBLIC).where(
            accounts.c.id.in_([bindparam(f"id{i}") for i in range(count)]),
            accounts.c.workspace_id == bindparam("ws"), accounts.c.deleted_at.is_(None),
        ))
    return statement


def get_accounts(conn: Conn, workspace_id: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The workspace's live (not deleted) accounts among `ids`, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    params = {f"id{i}": account_id for i, account_id in enumerate(wanted)} | {"ws": workspace_id}
    return {row["id"]: row for row in _get_accounts(len(wanted)).rows(conn, params)}


_LOAD_ACCOUNT = Prepared(select(accounts).where(accounts.c.id == bindparam("account_id")))


def load_account(conn: Connection, account_id: str) -> dict[str, Any] | None:
    """Every column of one account, credentials included (engine use only)."""
    return _LOAD_ACCOUNT.first(conn, {"account_id": account_id})


def delete_account(conn: Connection, workspace_id: str, account_id: str) -> dict[str, Any] | None:
    """Disconnect an account: it stops publishing and leaves the listing."""
    found = get_accounts(conn, workspace_id, [account_id]).get(account_id)
    if found is None:
        return None
    conn.execute(
        update(accounts).where(accounts.c.id == account_id)
        .values(status="disconnected", deleted_at=utcnow(), credentials=None)
    )
    return found | {"status": "disconnected"}


def set_account_status(conn: Connection, account_id: str, status: str) -> bool:
    """Change an account's status; True when it changed."""
    result = conn.execute(
        update(accounts).where(accounts.c.id == account_id, accounts.c.status != status).values(status=status)
    )
    return result.rowcount > 0


def set_account_settings(conn: Connection, account_id: str, settings: dict[str, Any]) -> None:
    """Replace an account's settings (sandbox faults)."""
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(settings=settings))
