"""Workspaces and their API keys (stored as SHA-256 hashes, shown once)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from .db import utcnow
from .ids import new_id, random_base62
from .prepared import Conn, Prepared
from .schema import api_keys, workspaces


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_workspace(conn: Connection, name: str, *, test: bool) -> dict[str, Any]:
    """A new workspace; `test` workspaces get `pd_test_` keys and sandbox accounts."""
    row = {"id": new_id("ws"), "name": name, "mode": "test" if test else "live", "created_at": utcnow()}
    conn.execute(insert(workspaces).values(**row))
    return row


def get_workspace(conn: Connection, workspace_id: str) -> dict[str, Any] | None:
    """One workspace by id."""
    row = conn.execute(select(workspaces).where(workspaces.c.id == workspace_id)).first()
    return dict(row._mapping) if row else None


def find_workspace(conn: Connection, name: str) -> dict[str, Any] | None:
    """The oldest workspace with this name."""
    row = conn.execute(
        select(workspaces).where(workspaces.c.name == name).order_by(workspaces.c.created_at).limit(1)
    ).first()
    return dict(row._mapping) if row else None


def count_workspaces(conn: Connection) -> int:
    """How many workspaces exist (the demo is only made on an empty database)."""
    return int(conn.execute(select(func.count()).select_from(workspaces)).scalar_one())


def create_key(conn: Connection, workspace: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A new key for the workspace: (stored row, the plaintext key shown once)."""
    prefix = "pd_test_" if workspace["mode"] == "test" else "pd_live_"
    key = prefix + random_base62(32)
    row = {
        "id": new_id("key"),
        "workspace_id": workspace["id"],
        "hash": hash_key(key),
        "hint": f"{prefix}…{key[-4:]}",
        "created_at": utcnow(),
        "revoked_at": None,
    }
    conn.execute(insert(api_keys).values(**row))
    return row, key


# built once: this runs on every authenticated request
_AUTHENTICATE = Prepared(
    select(api_keys.c.hash, api_keys.c.id.label("key_id"), workspaces)
    .join(workspaces, workspaces.c.id == api_keys.c.workspace_id)
    .where(api_keys.c.hash == bindparam("digest"), api_keys.c.revoked_at.is_(None))
)


def authenticate(conn: Conn, key: str) -> dict[str, Any] | None:
    """The workspace a live key belongs to, or None."""
    digest = hash_key(key)
    found = _AUTHENTICATE.first(conn, {"digest": digest})
    # the index finds the row; the compare is still constant-time so timing says nothing about keys
    if found is None or not hmac.compare_digest(found.pop("hash"), digest):
        return None
    return found


def touch_key(conn: Connection, key_id: str, now: datetime, *, every: timedelta) -> None:
    """Record that a key was used, unless that was already recorded less than `every` ago."""
    conn.execute(update(api_keys).where(api_keys.c.id == key_id, or_(
        api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < now - every)).values(last_used_at=now))


def list_keys(conn: Connection, workspace_id: str | None = None) -> list[dict[str, Any]]:
    """Keys with their workspace name, oldest first (hashes excluded)."""
    query = (
        select(api_keys.c.id, api_keys.c.hint, api_keys.c.created_at, api_keys.c.revoked_at, api_keys.c.last_used_at,
               workspaces.c.id.label("workspace_id"), workspaces.c.name.label("workspace"), workspaces.c.mode)
        .join(workspaces, workspaces.c.id == api_keys.c.workspace_id)
        .order_by(api_keys.c.created_at)
    )
    if workspace_id:
        query = query.where(api_keys.c.workspace_id == workspace_id)
    return [dict(r._mapping) for r in conn.execute(query)]


def revoke_key(conn: Connection, key_id: str, workspace_id: str | None = None) -> dict[str, Any] | None:
    """Revoke a live key (of `workspace_id` when given); returns its row, or None when there is no such live key."""
    query = select(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
    if workspace_id is not None:
        query = query.where(api_keys.c.workspace_id == workspace_id)
    row = conn.execute(query).first()
    if row is None:
        return None
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=utcnow()))
    return dict(row._mapping)


def rotate_key(conn: Connection, key_id: str, workspace_id: str | None = None) -> tuple[dict[str, Any], str] | None:
    """Revoke a key (of `workspace_id` when given) and issue its replacement in one transaction."""
    old = revoke_key(conn, key_id, workspace_id)
    if old is None:
        return None
    workspace = get_workspace(conn, old["workspace_id"])
    assert workspace is not None
    return create_key(conn, workspace)
