"""Write the upgrade fixtures: a database made by release 0.1.0, before migrations existed.

Run with the code of that release checked out (commit 0050f91, where `Database(url)` still ran
`metadata.create_all`), from the repository root:

    python -m tests.storage.legacy.make_fixture postgresql+psycopg://postgres@127.0.0.1:5432/test_migrate_fixture

It writes, beside this file, `v0_1_0.db` (SQLite), `v0_1_0.pg.sql` (pg_dump of the same rows copied into a
PostgreSQL schema made by that release) and `v0_1_0.json` (the plaintext key and ids the tests check).
The PostgreSQL database named on the command line is dropped and recreated.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

from postdodo_connect.api import Service, create_app
from postdodo_connect.config import Settings
from postdodo_connect.storage import Database, Vault
from postdodo_connect.storage import accounts as accounts_store
from postdodo_connect.storage import events as events_store
from postdodo_connect.storage import keys as keys_store
from postdodo_connect.storage import meta as meta_store
from postdodo_connect.storage import posts as posts_store
from postdodo_connect.storage import webhooks as webhooks_store
from postdodo_connect.storage.schema import metadata, sandbox_posts, targets

HERE = Path(__file__).parent
SECRET = "legacy-fixture-secret-key-0123456789"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _finish(db: Database, post_id: str, outcomes: list[dict[str, Any]], now: datetime) -> None:
    """Give a post's targets their final fields in order, then roll its status up (emits post.completed)."""
    with db.write() as conn:
        rows = conn.execute(select(targets.c.id).where(targets.c.post_id == post_id)
                            .order_by(targets.c.position)).all()
        for row, values in zip(rows, outcomes, strict=True):
            conn.execute(update(targets).where(targets.c.id == row.id).values(updated_at=now, lease_until=None,
                                                                             **values))
        posts_store.refresh_status(conn, post_id, now)


def populate(db: Database) -> dict[str, Any]:
    """Every kind of row the service writes, through the 0.1.0 API and storage functions."""
    vault = Vault(SECRET)
    generated_secret = meta_store.secret_key(db)  # an embedded install keeps its generated key as a settings row
    with db.write() as conn:
        live = keys_store.create_workspace(conn, "acme", test=False)
        key_row, live_key = keys_store.create_key(conn, live)
        revoked_row, _ = keys_store.create_key(conn, live)
        keys_store.revoke_key(conn, revoked_row["id"])
        bluesky = accounts_store.create_account(
            conn, live["id"], platform="bluesky", handle="acme.bsky.social", display_name="Acme", mode="live",
            credentials=vault.seal_json({"identifier": "acme.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"}))
        mastodon = accounts_store.create_account(
            conn, live["id"], platform="mastodon", handle="@acme@mastodon.social", display_name="Acme", mode="live",
            credentials=vault.seal_json({"instance": "https://mastodon.social", "access_token": "tok-legacy-1"}))
        sandbox_ws = keys_store.create_workspace(conn, "acme-sandbox", test=True)
        _, test_key = keys_store.create_key(conn, sandbox_ws)
        endpoint = webhooks_store.create_endpoint(
            conn, live["id"], url="https://hooks.example.com/postdodo/legacy", events_=[], description="CRM sync",
            sealed_secret=vault.seal("whsec_" + "A" * 32), now=T0)

    config = Settings.from_env({}, database_url=db.url, secret_key=SECRET)
    service = Service(settings=config, db=db, vault=vault)
    service.kick = lambda: None
    client = create_app({"ACCESS_LOG": False, "TESTING": True}, service=service).test_client()

    def call(method: str, path: str, key: str, body: Any = None, **headers: str) -> dict[str, Any]:
        response = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {key}", **headers})
        assert response.status_code < 300, response.get_json()
        return dict(response.get_json())

    sandbox_account = call("POST", "/v1/accounts", test_key, {"platform": "instagram", "mode": "sandbox"})
    both = [bluesky["id"], mastodon["id"]]
    published = call("POST", "/v1/posts", live_key, {"caption": "Launch day", "account_ids": both,
                                                     "media": [{"url": "https://cdn.example.com/a.jpg"}]},
                     **{"Idempotency-Key": "launch-2026-11-20"})
    partial = call("POST", "/v1/posts", live_key, {"caption": "Half made it", "account_ids": both})
    scheduled = call("POST", "/v1/posts", live_key, {"caption": "Next week", "account_ids": [bluesky["id"]],
                                                    "scheduled_at": "2027-01-04T09:00:00Z"})
    canceled = call("POST", "/v1/posts", live_key, {"caption": "Never mind", "account_ids": [mastodon["id"]],
                                                   "scheduled_at": "2027-01-05T09:00:00Z"})
    call("DELETE", f"/v1/posts/{canceled['id']}", live_key)
    retrying = call("POST", "/v1/posts", live_key, {"caption": "Try again", "account_ids": [bluesky["id"]]})
    sandboxed = call("POST", "/v1/posts", test_key, {"caption": "Sandbox hello", "account_ids": [sandbox_account["id"]],
                                                      "media": [{"url": "https://cdn.example.com/b.jpg"}]})

    later = T0 + timedelta(minutes=5)
    _finish(db, published["id"], [
        {"status": "confirmed", "attempts": 1, "platform_post_id": "at://did:plc:acme/app.bsky.feed.post/3l1",
         "permalink": "https://bsky.app/profile/acme.bsky.social/post/3l1"},
        {"status": "confirmed", "attempts": 1, "platform_post_id": "109",
         "permalink": "https://mastodon.social/@acme/109"}], later)
    _finish(db, partial["id"], [
        {"status": "confirmed", "attempts": 2, "platform_post_id": "at://did:plc:acme/app.bsky.feed.post/3l2",
         "permalink": "https://bsky.app/profile/acme.bsky.social/post/3l2"},
        {"status": "failed", "attempts": 1, "error": {"code": "rejected", "message": "Text too long"}}], later)
    _finish(db, retrying["id"], [
        {"status": "retrying", "attempts": 1, "next_attempt_at": later + timedelta(seconds=30),
         "error": {"code": "platform_unavailable", "message": "502 from the platform", "retryable": True}}], later)
    _finish(db, sandboxed["id"], [
        {"status": "confirmed", "attempts": 1, "platform_post_id": "sbx_1",
         "permalink": "https://www.instagram.com/p/sbx_1/"}], later)
    with db.write() as conn:
        conn.execute(insert(sandbox_posts).values(
            id="sbx_1", account_id=sandbox_account["id"], platform="instagram", reference=conn.execute(
                select(targets.c.id).where(targets.c.post_id == sandboxed["id"])).scalar_one(), caption="Sandbox hello", media=[],
            platform_post_id="sbx_1", permalink="https://www.instagram.com/p/sbx_1/", created_at=later))
        # the endpoint subscribes to every event, so emit() left pending deliveries; give two of them a history
        delivered, failed = conn.execute(text("SELECT id FROM deliveries ORDER BY created_at, id LIMIT 2")).scalars()
        webhooks_store.record_attempt(conn, delivered, later, status_code=200, latency_ms=41, error=None,
                                      response_body='{"ok":true}')
        conn.execute(text("UPDATE deliveries SET status='delivered', attempts=1 WHERE id=:id"), {"id": delivered})
        for n, code in enumerate((500, None), start=1):
            webhooks_store.record_attempt(conn, failed, later + timedelta(minutes=n), status_code=code,
                                          latency_ms=30000 if code is None else 12,
                                          error=None if code else "timeout", response_body="oops" if code else None)
        conn.execute(text("UPDATE deliveries SET status='failed', attempts=2, last_status_code=500 WHERE id=:id"),
                     {"id": failed})
        webhooks_store.mark_failing(conn, endpoint["id"], later)
        events_store.store_event(conn, live["id"], "account.expired", {"account_id": mastodon["id"]}, now=later)
    return {
        "release": "0.1.0", "secret_key": SECRET, "generated_secret_key": generated_secret,
        "live_key": live_key, "live_key_id": key_row["id"], "revoked_key_id": revoked_row["id"], "test_key": test_key,
        "workspace_id": live["id"], "sandbox_workspace_id": sandbox_ws["id"],
        "accounts": {"bluesky": bluesky["id"], "mastodon": mastodon["id"], "sandbox": sandbox_account["id"]},
        "endpoint_id": endpoint["id"], "delivered_id": delivered, "failed_delivery_id": failed,
        "posts": {"published": published["id"], "partially_published": partial["id"], "scheduled": scheduled["id"],
                  "canceled": canceled["id"], "retrying": retrying["id"], "sandbox": sandboxed["id"]},
        "idempotency_key": "launch-2026-11-20",
    }


def counts(db: Database) -> dict[str, int]:
    """Rows per table."""
    with db.read() as conn:
        return {t.name: int(conn.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one())
                for t in metadata.sorted_tables}


def copy_to_postgres(sqlite: Database, pg_url: str) -> None:
    """The same rows in a PostgreSQL schema made by this release (sequences moved past the copied ids)."""
    url = make_url(pg_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    pg = Database(pg_url)  # 0.1.0: creates the tables
    with sqlite.read() as src, pg.write() as dst:
        for table in metadata.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            if rows:
                dst.execute(insert(table), rows)
        for table, column in (("events", "seq"), ("delivery_attempts", "id")):
            dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                             f"(SELECT max({column}) FROM {table}))"))
    pg.dispose()


def main(pg_url: str) -> None:
    """Write the three fixture files."""
    path = HERE / "v0_1_0.db"
    for stale in (path, path.with_suffix(".db-wal"), path.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    manifest = populate(db)
    manifest["counts"] = counts(db)
    copy_to_postgres(db, pg_url)
    db.dispose()
    with closing(sqlite3.connect(path, isolation_level=None)) as raw:  # fold the WAL in: the fixture is one file
        raw.execute("PRAGMA journal_mode=DELETE")
        raw.execute("VACUUM")
    libpq = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run(["pg_dump", "--no-owner", "--no-privileges", "--inserts", libpq],
                          check=True, capture_output=True, text=True).stdout
    (HERE / "v0_1_0.pg.sql").write_text(dump)
    (HERE / "v0_1_0.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path.name}, v0_1_0.pg.sql, v0_1_0.json: {manifest['counts']}")


if __name__ == "__main__":
    main(sys.argv[1])
