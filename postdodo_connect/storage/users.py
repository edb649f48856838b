"""Dashboard users (argon2id password hashes), their workspace memberships and one-time sign-in links."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update

from ..errors import ConflictError, InvalidRequestError
from .db import utcnow
from .ids import new_id
from .schema import memberships, signin_tokens, users, workspaces

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" is only a way to burn our CPU
SETUP_TTL = timedelta(hours=24)
_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" profile


@cache
def _dummy_hash() -> str:
    # verified when the address is unknown, so a wrong address costs the same time as a wrong password;
    # made on first use: every API worker imports this module, few of them ever sign anyone in
    return _hasher.hash(secrets.token_hex(16))


def normal_email(email: str) -> str:
    """The stored form of an address: trimmed, lower-cased; 400 unless it looks like one."""
    value = email.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or len(value) > 254 or any(c.isspace() for c in value):
        raise InvalidRequestError("enter an email address such as you@example.com", param="email")
    return value


def check_password_rules(password: str) -> None:
    """400 unless the password is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidRequestError(f"the password needs at least {MIN_PASSWORD} characters", param="password")
    if len(password) > MAX_PASSWORD:
        raise InvalidRequestError(f"the password takes at most {MAX_PASSWORD} characters", param="password")


def _public(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data.pop("password_hash", None)
    return data


def create_user(conn: Connection, email: str, password: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A new user; 409 when the address is taken."""
    address = normal_email(email)
    check_password_rules(password)
    if conn.execute(select(users.c.id).where(users.c.email == address)).first():
        raise ConflictError(f"a user with the address {address} already exists", param="email")
    now = now or utcnow()
    row = {"id": new_id("usr"), "email": address, "password_hash": _hasher.hash(password), "created_at": now,
           "password_changed_at": now, "session_generation": 0}
    conn.execute(insert(users).values(**row))
    return {k: v for k, v in row.items() if k != "password_hash"}


def count_users(conn: Connection) -> int:
    """How many users exist (none: `postdodo serve` prints the first-run link)."""
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


def list_users(conn: Connection) -> list[dict[str, Any]]:
    """Every user, oldest first (no password hashes)."""
    return [_public(r) for r in conn.execute(select(users).order_by(users.c.created_at, users.c.id))]


def get_user(conn: Connection, user_id: str) -> dict[str, Any] | None:
    """One user by id (no password hash)."""
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _public(row) if row else None


def find_user(conn: Connection, email: str) -> dict[str, Any] | None:
    """One user by address (no password hash)."""
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).first()
    return _public(row) if row else None


def authenticate(conn: Connection, email: str, password: str) -> dict[str, Any] | None:
    """The user these credentials belong to, or None; the same work whether the address exists or not."""
    row = conn.execute(select(users).where(users.c.email == email.strip().lower())).first()
    stored = row.password_hash if row else _dummy_hash()
    try:
        _hasher.verify(stored, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    return _public(row) if row else None


def set_password(conn: Connection, user_id: str, password: str, *, now: datetime | None = None) -> None:
    """A new password; every session signed in before it ends (their stamp no longer matches)."""
    check_password_rules(password)
    conn.execute(update(users).where(users.c.id == user_id).values(
        password_hash=_hasher.hash(password), password_changed_at=now or utcnow(),
        session_generation=users.c.session_generation + 1))


def end_sessions(conn: Connection, user_id: str) -> None:
    """Sign the user out everywhere: cookies carry the generation they were issued under."""
    conn.execute(update(users).where(users.c.id == user_id).values(
        session_generation=users.c.session_generation + 1))


def add_membership(conn: Connection, user_id: str, workspace_id: str, role: str = "member") -> None:
    """Let a user see a workspace (nothing happens when they already can)."""
    exists = conn.execute(select(memberships.c.user_id).where(
        memberships.c.user_id == user_id, memberships.c.workspace_id == workspace_id)).first()
    if not exists:
        conn.execute(insert(memberships).values(user_id=user_id, workspace_id=workspace_id, role=role,
                                                created_at=utcnow()))


def join_all_workspaces(conn: Connection, user_id: str, role: str = "owner") -> int:
    """Make a user a member of every workspace (the first user owns what exists); returns how many."""
    ids = [r.id for r in conn.execute(select(workspaces.c.id).order_by(workspaces.c.created_at))]
    for workspace_id in ids:
        add_membership(conn, user_id, workspace_id, role)
    return len(ids)


def user_workspaces(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    """The workspaces a user belongs to, oldest first."""
    query = (select(workspaces, memberships.c.role)
             .join(memberships, memberships.c.workspace_id == workspaces.c.id)
             .where(memberships.c.user_id == user_id).order_by(workspaces.c.created_at, workspaces.c.id))
    return [dict(r._mapping) for r in conn.execute(query)]


def member_workspace(conn: Connection, user_id: str, workspace_id: str) -> dict[str, Any] | None:
    """The workspace if the user belongs to it, else None (the dashboard answers 404 either way)."""
    query = (select(workspaces, memberships.c.role)
             .join(memberships, memberships.c.workspace_id == workspaces.c.id)
             .where(memberships.c.user_id == user_id, workspaces.c.id == workspace_id))
    row = conn.execute(query).first()
    return dict(row._mapping) if row else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_signin_token(conn: Connection, purpose: str, *, user_id: str | None = None,
                        ttl: timedelta = SETUP_TTL, now: datetime | None = None) -> str:
    """A one-time token (stored hashed) for a sign-in link; returns the token itself."""
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    conn.execute(insert(signin_tokens).values(hash=_digest(token), purpose=purpose, user_id=user_id,
                                              created_at=now, expires_at=now + ttl, used_at=None))
    return token


def peek_signin_token(conn: Connection, token: str, purpose: str, *, now: datetime | None = None
                      ) -> dict[str, Any] | None:
    """The token's row if it is unused, unexpired and for `purpose`; nothing is consumed."""
    digest = _digest(token)
    row = conn.execute(select(signin_tokens).where(signin_tokens.c.hash == digest)).first()
    if row is None or not hmac.compare_digest(row.hash, digest):
        return None
    if row.purpose != purpose or row.used_at is not None or row.expires_at <= (now or utcnow()):
        return None
    return dict(row._mapping)


def use_signin_token(conn: Connection, token: str, purpose: str, *, now: datetime | None = None
                     ) -> dict[str, Any] | None:
    """Consume the token (single use): its row, or None when it is unknown, used or expired."""
    now = now or utcnow()
    found = peek_signin_token(conn, token, purpose, now=now)
    if found is None:
        return None
    done = conn.execute(update(signin_tokens).where(signin_tokens.c.hash == found["hash"],
                                                    signin_tokens.c.used_at.is_(None)).values(used_at=now))
    return found if done.rowcount == 1 else None  # a concurrent use won the race
