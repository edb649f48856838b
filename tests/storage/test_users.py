"""Dashboard users on both databases: argon2 hashes, sessions that end, memberships, one-time sign-in links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from postdodo_connect.errors import ConflictError, InvalidRequestError
from postdodo_connect.storage import Database, keys, users
from postdodo_connect.storage.schema import signin_tokens
from postdodo_connect.storage.schema import users as users_table

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def test_a_password_is_stored_as_an_argon2id_hash_and_checked_against_it(db: Database) -> None:
    with db.write() as conn:
        user = users.create_user(conn, "  Ada@Example.COM ", "correct horse battery")
    assert user["email"] == "ada@example.com" and "password_hash" not in user
    with db.read() as conn:
        stored = conn.execute(select(users_table.c.password_hash)).scalar_one()
        assert stored.startswith("$argon2id$") and "correct horse" not in stored
        assert users.authenticate(conn, "ADA@example.com", "correct horse battery")["id"] == user["id"]
        assert users.authenticate(conn, "ada@example.com", "wrong horse battery") is None
        assert users.authenticate(conn, "nobody@example.com", "correct horse battery") is None


def test_an_address_is_taken_once_and_bad_input_stores_nothing(db: Database) -> None:
    with db.write() as conn:
        users.create_user(conn, "ada@example.com", "correct horse battery")
    for email, password, error, param in (("ADA@example.com", "another long one", ConflictError, "email"),
                                          ("not-an-address", "long enough pw", InvalidRequestError, "email"),
                                          ("bob@example.com", "short", InvalidRequestError, "password")):
        with pytest.raises(error) as refused, db.write() as conn:
            users.create_user(conn, email, password)
        assert refused.value.param == param
    with db.read() as conn:
        assert users.count_users(conn) == 1


def test_a_new_password_or_sign_out_moves_the_session_generation(db: Database) -> None:
    with db.write() as conn:
        user = users.create_user(conn, "ada@example.com", "correct horse battery", now=NOW)
    assert user["session_generation"] == 0
    with db.write() as conn:
        users.end_sessions(conn, user["id"])
        users.set_password(conn, user["id"], "a brand new password", now=NOW + timedelta(days=1))
    with db.read() as conn:
        again = users.get_user(conn, user["id"])
        assert again is not None and again["session_generation"] == 2
        assert again["password_changed_at"] == NOW + timedelta(days=1)
        assert users.authenticate(conn, "ada@example.com", "correct horse battery") is None
        assert users.authenticate(conn, "ada@example.com", "a brand new password") is not None


def test_a_user_sees_only_the_workspaces_they_belong_to(db: Database) -> None:
    with db.write() as conn:
        first = keys.create_workspace(conn, "first", test=True)
        user = users.create_user(conn, "ada@example.com", "correct horse battery")
        assert users.join_all_workspaces(conn, user["id"]) == 1
        later = keys.create_workspace(conn, "later", test=False)
        other = users.create_user(conn, "bob@example.com", "correct horse battery")
        users.add_membership(conn, other["id"], later["id"])
        users.add_membership(conn, other["id"], later["id"])  # twice: still one membership
    with db.read() as conn:
        assert [w["id"] for w in users.user_workspaces(conn, user["id"])] == [first["id"]]
        assert [w["id"] for w in users.user_workspaces(conn, other["id"])] == [later["id"]]
        assert users.member_workspace(conn, user["id"], later["id"]) is None
        assert users.member_workspace(conn, other["id"], later["id"])["role"] == "member"


def test_a_sign_in_token_is_stored_hashed_works_once_and_expires(db: Database) -> None:
    with db.write() as conn:
        token = users.create_signin_token(conn, "setup", now=NOW)
        stale = users.create_signin_token(conn, "setup", now=NOW - timedelta(days=2))
    with db.read() as conn:
        assert token not in {r.hash for r in conn.execute(select(signin_tokens))}
        assert users.peek_signin_token(conn, token, "reset", now=NOW) is None  # another purpose
        assert users.peek_signin_token(conn, stale, "setup", now=NOW) is None  # expired
    with db.write() as conn:
        assert users.use_signin_token(conn, token, "setup", now=NOW) is not None
        assert users.use_signin_token(conn, token, "setup", now=NOW) is None
        assert users.use_signin_token(conn, token + "x", "setup", now=NOW) is None
