"""The API benchmark's baseline: create and get a post written by hand in plain Flask and stdlib sqlite3.

It does the work our API does for these two requests, with nothing else: look up the key by its SHA-256
on the unique index, validate the body with pydantic, check the accounts belong to the workspace, insert
the post, one target per account and one event in one WAL commit (synchronous=NORMAL), answer JSON.
No rate limit, request id, access log, idempotency or per-platform preflight. It runs against the same
SQLite file (same tables and indexes) as the app it is compared with: POSTDODO_DATABASE_URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

app = Flask("handwritten")
_conn: sqlite3.Connection | None = None


class MediaIn(BaseModel):
    """One media item."""

    model_config = ConfigDict(extra="forbid")
    type: str = "image"
    url: str = Field(max_length=2048)


class PostIn(BaseModel):
    """The create-post body."""

    model_config = ConfigDict(extra="forbid")
    caption: str = Field(default="", max_length=100_000)
    account_ids: list[str] = Field(min_length=1, max_length=100)
    scheduled_at: AwareDatetime | None = None
    media: list[MediaIn] = Field(default_factory=list, max_length=20)


def db() -> sqlite3.Connection:
    """This process's connection (opened after gunicorn forks)."""
    global _conn
    if _conn is None:
        path = os.environ["POSTDODO_DATABASE_URL"].removeprefix("sqlite:///")
        _conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        _conn.execute("PRAGMA journal_mode=WAL")
        _conn.execute("PRAGMA synchronous=NORMAL")
        _conn.execute("PRAGMA busy_timeout=30000")
    return _conn


def stored(value: datetime) -> str:
    """Naive UTC text, as the shared schema keeps times."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def wire(value: datetime) -> str:
    """ISO 8601 UTC with Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "Z"


def wire_text(value: str | None) -> str | None:
    """A stored time as it leaves on the wire."""
    return None if value is None else wire(datetime.fromisoformat(value).replace(tzinfo=UTC))


def new_id(prefix: str) -> str:
    """A prefixed random id."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def error(status: int, code: str, message: str) -> tuple[object, int]:
    """A JSON error."""
    return jsonify({"error": {"code": code, "message": message}}), status


def workspace_id() -> str | None:
    """The workspace of the bearer key, looked up by its SHA-256."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    row = db().execute("SELECT workspace_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL", (digest,)).fetchone()
    return row[0] if row else None


@app.get("/healthz")
def healthz() -> object:
    """Ready probe."""
    return jsonify({"status": "ok"})


@app.post("/v1/posts")
def create() -> object:
    """Create a post with one target per account and its event, in one commit."""
    ws = workspace_id()
    if ws is None:
        return error(401, "unauthorized", "invalid API key")
    try:
        body = PostIn.model_validate_json(request.get_data())
    except ValidationError as exc:
        return error(400, "invalid_request", str(exc.errors()[0]["msg"]))
    wanted = list(dict.fromkeys(body.account_ids))
    marks = ",".join("?" * len(wanted))
    conn = db()
    found = {row[0]: row for row in conn.execute(
        f"SELECT id, platform, status FROM accounts WHERE workspace_id = ? AND deleted_at IS NULL AND id IN ({marks})",
        (ws, *wanted))}
    if len(found) != len(wanted) or any(row[2] != "active" for row in found.values()):
        return error(400, "invalid_request", "unknown or inactive account")
    now = datetime.now(UTC)
    post_id, status = new_id("post"), "scheduled" if body.scheduled_at else "publishing"
    due = stored(body.scheduled_at or now)
    media = [m.model_dump() for m in body.media]
    targets = [(new_id("tgt"), post_id, i, ws, a, found[a][1], "scheduled", 0, due, stored(now))
               for i, a in enumerate(wanted)]
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("INSERT INTO posts (id, workspace_id, status, caption, media, scheduled_at, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (post_id, ws, status, body.caption, json.dumps(media),
                      stored(body.scheduled_at) if body.scheduled_at else None, stored(now), stored(now)))
        conn.executemany("INSERT INTO targets (id, post_id, position, workspace_id, account_id, platform, status,"
                         " attempts, next_attempt_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", targets)
        event = {"post_id": post_id, "status": status,
                 "targets": [{"account_id": t[4], "platform": t[5]} for t in targets]}
        conn.execute("INSERT INTO events (id, workspace_id, type, post_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (new_id("evt"), ws, f"post.{status}", post_id, json.dumps(event), stored(now)))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return jsonify({
        "id": post_id, "status": status, "caption": body.caption,
        "scheduled_at": wire(body.scheduled_at) if body.scheduled_at else None, "media": media,
        "targets": [{"account_id": t[4], "platform": t[5], "status": "scheduled", "attempts": 0,
                     "next_attempt_at": wire(body.scheduled_at or now)} for t in targets],
        "created_at": wire(now), "updated_at": wire(now),
    }), 201


@app.get("/v1/posts/<post_id>")
def get(post_id: str) -> object:
    """One post and its targets."""
    ws = workspace_id()
    if ws is None:
        return error(401, "unauthorized", "invalid API key")
    conn = db()
    row = conn.execute("SELECT id, status, caption, media, scheduled_at, created_at, updated_at FROM posts"
                       " WHERE id = ? AND workspace_id = ?", (post_id, ws)).fetchone()
    if row is None:
        return error(404, "not_found", "no such post")
    targets = [
        {"account_id": t[0], "platform": t[1], "status": t[2], "permalink": t[3], "platform_post_id": t[4],
         "attempts": t[5], "next_attempt_at": wire_text(t[6]) if t[2] in ("scheduled", "retrying") else None, "error": json.loads(t[7]) if t[7] else None}
        for t in conn.execute("SELECT account_id, platform, status, permalink, platform_post_id, attempts,"
                              " next_attempt_at, error FROM targets WHERE post_id = ? ORDER BY position", (post_id,))
    ]
    return jsonify({"id": row[0], "status": row[1], "caption": row[2], "media": json.loads(row[3]),
                    "scheduled_at": wire_text(row[4]), "created_at": wire_text(row[5]), "updated_at": wire_text(row[6]),
                    "targets": [{k: v for k, v in t.items() if v is not None} for t in targets]})
