"""Connect sessions and the OAuth clients registered on the fly (Mastodon instances)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from .schema import accounts, connect_apps, connect_sessions, targets

#: the statuses a session can still move from
OPEN = ("pending", "needs_selection")


def create_session(conn: Connection, session_id: str, workspace_id: str, *, platform: str, redirect_url: str, redirect_uri: str,
                   account_id: str | None, options: dict[str, Any], nonce: str, secret: str | None,
                   now: datetime, expires_at: datetime) -> dict[str, Any]:
    """Store a new pending session; `secret` is already sealed."""
    row: dict[str, Any] = {"id": session_id, "workspace_id": workspace_id, "platform": platform, "status": "pending",
           "redirect_url": redirect_url, "redirect_uri": redirect_uri, "account_id": account_id, "options": options,
           "nonce": nonce, "secret": secret, "choices": None, "account_ids": [], "error_code": None,
           "error_message": None, "created_at": now, "expires_at": expires_at, "updated_at": now}
    conn.execute(insert(connect_sessions).values(**row))
    return row


def get_session(conn: Connection, session_id: str, workspace_id: str | None = None) -> dict[str, Any] | None:
    """One session (only within `workspace_id` when given)."""
    query = select(connect_sessions).where(connect_sessions.c.id == session_id)
    if workspace_id is not None:
        query = query.where(connect_sessions.c.workspace_id == workspace_id)
    row = conn.execute(query).first()
    return dict(row._mapping) if row else None


def claim(conn: Connection, session_id: str, nonce: str, status: str, now: datetime) -> bool:
    """Take a session out of `status` for good, if it is still there with this nonce (single use under races)."""
    result = conn.execute(
        update(connect_sessions)
        .where(connect_sessions.c.id == session_id, connect_sessions.c.status == status,
               connect_sessions.c.nonce == nonce)
        .values(status="working", updated_at=now))
    return result.rowcount > 0


def set_session(conn: Connection, session_id: str, now: datetime, **values: Any) -> None:
    """Change a session's columns."""
    conn.execute(update(connect_sessions).where(connect_sessions.c.id == session_id).values(updated_at=now, **values))


def expire_session(conn: Connection, session_id: str, now: datetime) -> None:
    """Mark an open session past its time as expired, and forget its secrets."""
    conn.execute(update(connect_sessions)
                 .where(connect_sessions.c.id == session_id, connect_sessions.c.status.in_(OPEN))
                 .values(status="expired", secret=None, error_code="session_expired",
                         error_message="the connect session expired; start a new one", updated_at=now))


def find_account(conn: Connection, workspace_id: str, platform: str, external_user_id: str,
                 target_id: str) -> dict[str, Any] | None:
    """The workspace's live account already connected to this platform target, if any."""
    rows = conn.execute(select(accounts).where(
        accounts.c.workspace_id == workspace_id, accounts.c.platform == platform,
        accounts.c.external_user_id == external_user_id, accounts.c.deleted_at.is_(None), accounts.c.mode == "live"))
    for row in rows:
        if (row.settings or {}).get("target_id", row.external_user_id) == target_id:
            return dict(row._mapping)
    return None


def update_credentials(conn: Connection, account_id: str, **values: Any) -> None:
    """Store an account's new credentials and connect facts; the account is active again."""
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(status="active", **values))


def get_app(conn: Connection, platform: str, issuer: str, redirect_uri: str) -> dict[str, Any] | None:
    """The client registered earlier on this instance for this redirect URI."""
    row = conn.execute(select(connect_apps).where(
        connect_apps.c.platform == platform, connect_apps.c.issuer == issuer,
        connect_apps.c.redirect_uri == redirect_uri)).first()
    return dict(row._mapping) if row else None


def save_app(conn: Connection, platform: str, issuer: str, redirect_uri: str, client_id: str,
             client_secret: str, now: datetime) -> None:
    """Remember a registered client (`client_secret` sealed); the first one stored wins a race."""
    if get_app(conn, platform, issuer, redirect_uri) is None:
        conn.execute(insert(connect_apps).values(platform=platform, issuer=issuer, redirect_uri=redirect_uri,
                                                 client_id=client_id, client_secret=client_secret, created_at=now))


def publish_history(conn: Connection, account_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per account: when it last published (a confirmed target) and its last error (a failed or retrying one)."""
    found: dict[str, dict[str, Any]] = {a: {"last_published_at": None, "last_error": None} for a in account_ids}
    if not account_ids:
        return found
    mine = targets.c.account_id.in_(account_ids)
    published = select(targets.c.account_id, func.max(targets.c.updated_at)).where(
        mine, targets.c.status == "confirmed").group_by(targets.c.account_id)
    for account_id, at in conn.execute(published):
        found[account_id]["last_published_at"] = at
    failing = (targets.c.status.in_(("failed", "retrying")), targets.c.error.is_not(None))
    latest = select(targets.c.account_id, func.max(targets.c.updated_at).label("at")).where(
        mine, *failing).group_by(targets.c.account_id).subquery()
    errors = select(targets.c.account_id, targets.c.error, targets.c.updated_at).join(
        latest, and_(targets.c.account_id == latest.c.account_id, targets.c.updated_at == latest.c.at)).where(*failing)
    for account_id, error, at in conn.execute(errors):
        if isinstance(error, dict):
            found[account_id]["last_error"] = {"code": str(error.get("code", "")),
                                               "message": str(error.get("message", "")), "at": at}
    return found
