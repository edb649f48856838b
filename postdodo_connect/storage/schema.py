"""The tables, in SQLAlchemy Core; the same schema serves SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the database keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database")
        # stored naive UTC on both databases so SQLite's text compare orders correctly
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC)

    # On SQLite both directions in one step: the generic chain (this decorator, then SQLite's DATETIME
    # text format) costs a few µs a value, and every API read and write converts several. The text is
    # exactly SQLite DATETIME's own "YYYY-MM-DD HH:MM:SS.ffffff", so stored values compare and sort alike.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        last: tuple[datetime | None, str | None] = (None, None)

        def process(value: datetime | None) -> str | None:
            nonlocal last
            if value is None:
                return None
            seen = last  # one tuple, read and written whole: safe across threads
            if seen[0] is value:  # a write binds the same `now` several times
                return seen[1]
            if value.tzinfo is None:
                raise ValueError("naive datetime reached the database")
            text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            last = (value, text)
            return text

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            # the offset parsed with the text, not set by replace(): keyword arguments make that the costlier step
            return None if value is None else datetime.fromisoformat(value + "+00:00")

        return process


metadata = MetaData()

workspaces = Table(
    "workspaces", metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("mode", String(10), nullable=False),  # live | test
    Column("created_at", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),  # sha256 hex of the whole key
    Column("hint", String(24), nullable=False),  # "pd_live_…ab12" for listings
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),  # written at most once a minute per key (storage/keys.py)
)

accounts = Table(
    "accounts", metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("platform", String(30), nullable=False),
    Column("handle", String(100), nullable=False),
    Column("display_name", String(200), nullable=False, default=""),
    Column("mode", String(10), nullable=False),  # live | sandbox
    Column("status", String(20), nullable=False),  # active | expired | disconnected
    Column("credentials", Text),  # Fernet token of the JSON credentials
    Column("settings", JSON, nullable=False, default=dict),  # sandbox faults and the like
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
    # when the stored access token stops working (None: unknown or never): refresh-ahead and health read it
    Column("token_expires_at", UTCDateTime),
    Column("scopes", JSON),  # the scopes the platform granted at connect time (None: not an OAuth account)
    Column("external_user_id", String(200)),  # the platform's id of who connected it: reconnect must match
    # one token refresh at a time per account, across processes: who holds it until when (engine/credentials.py)
    Column("refresh_lease_until", UTCDateTime),
    # the token_expires_at that `account.expiring` was sent for: once per expiry
    Column("expiry_warned_for", UTCDateTime),
    Index("ix_accounts_workspace", "workspace_id", "created_at"),
)

# One run of connecting an account (`cs_` ids): single use, short-lived, workspace-scoped.
connect_sessions = Table(
    "connect_sessions", metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), nullable=False),
    Column("platform", String(30), nullable=False),
    Column("status", String(20), nullable=False),  # pending | needs_selection | completed | failed | expired
    Column("redirect_url", Text, nullable=False),
    Column("redirect_uri", Text, nullable=False),  # the callback URI the platform was given (the exchange repeats it)
    Column("account_id", String(40)),  # a reconnect: the account whose credentials are refreshed in place
    Column("options", JSON, nullable=False),  # what the caller passed (e.g. Mastodon's instance_url)
    # the state's random part: a callback must carry exactly this one, once
    Column("nonce", String(64), nullable=False),
    # Fernet token of the JSON secrets: the PKCE verifier, then the picker's options with their credentials
    Column("secret", Text),
    Column("choices", JSON),  # the picker's options, public part only
    Column("account_ids", JSON, nullable=False),
    Column("error_code", String(60)),
    Column("error_message", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_connect_sessions_workspace", "workspace_id", "created_at"),
)

# OAuth clients registered on the fly (a Mastodon instance's POST /api/v1/apps), reused per instance.
connect_apps = Table(
    "connect_apps", metadata,
    Column("platform", String(30), primary_key=True),
    Column("issuer", String(255), primary_key=True),  # the instance's base URL
    Column("redirect_uri", String(500), primary_key=True),
    Column("client_id", Text, nullable=False),
    Column("client_secret", Text, nullable=False),  # Fernet token
    Column("created_at", UTCDateTime, nullable=False),
)

posts = Table(
    "posts", metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("status", String(30), nullable=False),
    Column("caption", Text, nullable=False),
    Column("media", JSON, nullable=False),
    Column("scheduled_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # the number of the post's last event (`data.sequence`): a counter, not a count, so purging old
    # events never makes a later event's number repeat an earlier one's
    Column("event_seq", Integer, nullable=False, server_default="0"),
    # the versions as given: {"platforms": {...}, "accounts": {...}, "first_comment": ...} (None: none)
    Column("versions", JSON),
    # the list endpoint pages by (created_at, id) newest first, per workspace
    Index("ix_posts_workspace_created", "workspace_id", "created_at", "id"),
)

targets = Table(
    "targets", metadata,
    Column("id", String(40), primary_key=True),
    Column("post_id", String(40), ForeignKey("posts.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("workspace_id", String(40), nullable=False),
    Column("account_id", String(40), nullable=False),
    Column("platform", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    # when a scheduled/retrying target is due; the scheduler's only query reads this index
    Column("next_attempt_at", UTCDateTime),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(40)),  # the lease_owners row of the process holding the lease
    Column("permalink", Text),
    Column("platform_post_id", String(200)),
    Column("error", JSON),
    Column("updated_at", UTCDateTime, nullable=False),
    # platform work in flight: `processing` while the platform processes media (status stays publishing)
    Column("phase", String(20)),
    Column("processing_since", UTCDateTime),  # the first "still processing" answer: the budget counts from it
    Column("processing_checks", Integer, nullable=False, server_default="0"),  # attempts that only checked
    # publish tries (attempts less processing checks) as of the last publish outcome: what `attempts` shows once
    # the target is confirmed, since follow-ups (first comment, thread items, deletes) count in `attempts` too
    Column("tries", Integer),
    Column("platform_state", Text),  # Fernet token of the adapter's saved handles (container id, publish_id...)
    # when the call that may create the post last started, and under which attempt: a lease that expired
    # before it is a plain retry; after it the outcome is unknown and reconcile starts from this time
    Column("call_started_at", UTCDateTime),
    Column("call_attempt", Integer),
    # what this target publishes: {caption, media, options, first_comment} with its versions applied
    # (None on targets created before versions existed: the post's caption and media)
    Column("content", JSON),
    # {text, status, platform_post_id, permalink, error}: the comment posted under the confirmed post;
    # while it is due, the confirmed target carries its `next_attempt_at`
    Column("first_comment", JSON),
    # {status, items: [{status, platform_post_id, permalink, cid, error, call_started_at, call_attempt, state}]}:
    # the thread items posted after the confirmed post, one per job; while one is due, the confirmed target
    # carries its `next_attempt_at` (as for a first comment)
    Column("thread", JSON),
    Index("ix_targets_due", "status", "next_attempt_at"),
    Index("ix_targets_lease", "status", "lease_until"),
    Index("ix_targets_post", "post_id", "position"),
    Index("ix_targets_account", "account_id", "status"),
)

events = Table(
    "events", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("workspace_id", String(40), nullable=False),
    Column("type", String(40), nullable=False),
    Column("post_id", String(40)),
    Column("data", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_events_workspace", "workspace_id", "seq"),
    Index("ix_events_post", "post_id", "seq"),
)

webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),  # [] = every event
    Column("description", Text),
    Column("status", String(20), nullable=False),  # enabled | disabled
    Column("disabled_reason", Text),
    Column("secret", Text, nullable=False),  # Fernet token
    Column("previous_secret", Text),  # Fernet token, signs alongside until previous_expires_at
    Column("previous_expires_at", UTCDateTime),
    Column("failing_since", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
    Index("ix_webhooks_workspace", "workspace_id", "created_at"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", String(40), primary_key=True),
    Column("event_id", String(40), nullable=False),
    Column("endpoint_id", String(40), nullable=False),
    Column("workspace_id", String(40), nullable=False),
    Column("status", String(20), nullable=False),  # pending | delivering | delivered | failed | canceled
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(40)),  # the lease_owners row of the process holding the lease
    Column("last_status_code", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_lease", "status", "lease_until"),
    Index("ix_deliveries_endpoint", "endpoint_id", "created_at"),
    Index("ix_deliveries_event", "event_id"),
)

delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Integer),
    Column("error", Text),
    Column("response_body", Text),
    Index("ix_attempts_delivery", "delivery_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("scope", String(40), primary_key=True),  # the API key's workspace
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path and body
    Column("status_code", Integer),  # NULL while the first request is still running
    Column("response", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

# What the sandbox platform "published": committed on its own, like a real platform's database.
sandbox_posts = Table(
    "sandbox_posts", metadata,
    Column("id", String(60), primary_key=True),
    Column("account_id", String(40), nullable=False),
    Column("platform", String(30), nullable=False),
    # the target id; NOT unique on purpose: a double publish must show up as two rows
    Column("reference", String(60), nullable=False, index=True),
    Column("caption", Text, nullable=False),
    Column("media", JSON, nullable=False),
    Column("platform_post_id", String(200), nullable=False),
    Column("permalink", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_sandbox_account", "account_id"),
)

# One row per engine or worker process start that holds leases: a successor that sees its heartbeat
# stop (or, on the same machine, its pid gone) takes its leases back at once instead of waiting them out.
lease_owners = Table(
    "lease_owners", metadata,
    Column("id", String(40), primary_key=True),
    Column("role", String(20), nullable=False),  # engine | worker
    Column("host", String(200), nullable=False),  # for people reading the table
    Column("scope", String(200), nullable=False),  # kernel boot + pid namespace: where `pid` means this process
    Column("pid", Integer, nullable=False),
    Column("pid_started", String(40)),  # the pid's start time (Linux), so a reused pid is not mistaken for it
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
)

# People who sign in to the dashboard, and the workspaces each may see.
users = Table(
    "users", metadata,
    Column("id", String(40), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    # signed into the session cookie; sign-out and a password change bump it, which ends every older session
    Column("session_generation", Integer, nullable=False, server_default="0"),
    Index("ux_users_email", "email", unique=True),  # stored lower-cased
)

memberships = Table(
    "memberships", metadata,
    Column("user_id", String(40), ForeignKey("users.id"), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), primary_key=True),
    Column("role", String(20), nullable=False),  # owner | member
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_memberships_workspace", "workspace_id"),
)

# One-time sign-in links (the first-run link of `postdodo serve`, password resets): stored hashed, single use.
signin_tokens = Table(
    "signin_tokens", metadata,
    Column("hash", String(64), primary_key=True),  # sha256 hex of the token
    Column("purpose", String(20), nullable=False),  # setup
    Column("user_id", String(40)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
)

settings_table = Table(
    "settings", metadata,
    Column("name", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
)
