"""Each account's health in GET /v1/accounts: token expiry, scopes, last publish and error, needs_reconnect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from postdodo_connect.storage.schema import accounts, targets
from tests.connect.conftest import Kit, query
from tests.connect.test_x import connect_x

T1 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def scheduled_target(kit: Kit, account_id: str) -> str:
    """A post far in the future for the account; its target's id."""
    answer = kit.api.call("POST", "/v1/posts", kit.key, json={
        "caption": "hello", "account_ids": [account_id], "scheduled_at": "2999-01-01T00:00:00Z"})
    assert answer.status_code == 201, answer.get_json()
    with kit.api.db.read() as conn:
        return str(conn.execute(targets.select().where(targets.c.post_id == answer.get_json()["id"])).one().id)


def test_health_reads_the_last_publish_and_the_last_error(kit: Kit) -> None:
    _, answer, _ = connect_x(kit)
    account_id = query(answer.headers["Location"])["account_id"]
    fresh = kit.accounts()[0]["health"]
    assert fresh["last_published_at"] is None and fresh["last_error"] is None
    published, failed, older_failure = (scheduled_target(kit, account_id) for _ in range(3))
    error = {"code": "auth_expired", "message": "X: Unauthorized", "retryable": False}
    with kit.api.db.write() as conn:
        conn.execute(update(targets).where(targets.c.id == published).values(status="confirmed", updated_at=T1))
        conn.execute(update(targets).where(targets.c.id == older_failure).values(
            status="failed", error={"code": "rejected", "message": "old"}, updated_at=T1 - timedelta(days=1)))
        conn.execute(update(targets).where(targets.c.id == failed).values(
            status="failed", error=error, updated_at=T1 + timedelta(hours=1)))
        conn.execute(update(accounts).values(status="expired"))
    health = kit.accounts()[0]["health"]
    assert health["last_published_at"] == "2026-06-01T09:00:00Z"
    assert health["last_error"] == {"code": "auth_expired", "message": "X: Unauthorized", "at": "2026-06-01T10:00:00Z"}
    assert health["needs_reconnect"] is True


def test_an_expired_token_needs_a_reconnect_only_without_a_refresh_token(kit: Kit) -> None:
    connect_x(kit)
    past = kit.clock() - timedelta(hours=1)
    with kit.api.db.write() as conn:
        conn.execute(update(accounts).values(token_expires_at=past))
    assert kit.accounts()[0]["health"]["needs_reconnect"] is False  # X refreshes it on the next publish
    kit.mocked.reset()
    connect_x(kit, refresh=None)  # same user: the stored refresh token is kept
    with kit.api.db.write() as conn:
        row = conn.execute(accounts.select()).one()
        creds = kit.api.service.vault.open_json(row.credentials)
        creds.pop("refresh_token")
        conn.execute(update(accounts).values(token_expires_at=past, credentials=kit.api.service.vault.seal_json(creds)))
    assert kit.accounts()[0]["health"]["needs_reconnect"] is True


def test_missing_scopes_need_a_reconnect(kit: Kit) -> None:
    connect_x(kit)
    with kit.api.db.write() as conn:
        conn.execute(update(accounts).values(scopes=["tweet.read", "users.read"]))
    health = kit.accounts()[0]["health"]
    assert health["needs_reconnect"] is True and "tweet.write" in health["scopes_needed"]


def test_sandbox_accounts_have_a_quiet_health(kit: Kit) -> None:
    test_key = kit.api.new_key("sandbox")
    kit.api.sandbox_account(test_key)
    [account] = kit.api.call("GET", "/v1/accounts", test_key).get_json()["data"]
    assert account["health"] == {"token_expires_at": None, "scopes_granted": None, "scopes_needed": [],
                                 "last_published_at": None, "last_error": None, "needs_reconnect": False}
