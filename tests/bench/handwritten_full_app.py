"""A second baseline: the hand-written app (handwritten_app.py) plus the per-request work the API contract adds.

Still plain Flask + stdlib sqlite3, written for speed, but it also does what every request of ours must:
a per-key rate limit (fixed window, in process) with the RateLimit headers, a request id, the request counter
and latency histogram (prometheus_client), a caption check per target platform, the content each target
publishes stored with it and shown in the answer, the post's event numbered, and the outbox's lookup of the
workspace's webhook endpoints (a delivery row for each subscribed one). bench_api reports our ratio to it
beside the ratio to the plain hand-written app, so the cost of the contract and the cost of our code can be
told apart.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, jsonify, request
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from tests.bench.handwritten_app import PostIn, db, error, new_id, stored, wire, wire_text, workspace_id

app = Flask("handwritten_full")
app.json.sort_keys = False  # type: ignore[attr-defined]  # as ours: the fields in their order
LIMIT, WINDOW = 100_000_000, 60
CAPTION_LIMITS = {"bluesky": 300, "mastodon": 500, "x": 280, "threads": 500, "linkedin": 3000}
REQUESTS = Counter("bench_http_requests", "requests", ["method", "route", "status"])
SECONDS = Histogram("bench_http_request_duration_seconds", "latency", ["method", "route"])
_windows: dict[tuple[str, int], int] = {}


@app.before_request
def _start() -> Response | None:
    g.started, g.request_id = time.perf_counter(), "req_" + secrets.token_hex(8)
    if request.path == "/healthz":
        return None
    ws = workspace_id()
    if ws is None:
        return _refusal(401, "unauthorized", "invalid API key")
    window = int(time.time()) // WINDOW
    count = _windows[(ws, window)] = _windows.get((ws, window), 0) + 1
    g.workspace, g.window, g.remaining = ws, window, LIMIT - count
    if count > LIMIT:
        return _refusal(429, "rate_limited", "rate limit exceeded")
    return None


def _refusal(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


@app.after_request
def _finish(response: Response) -> Response:
    if "window" in g:
        reset = (g.window + 1) * WINDOW
        response.headers.extend((("RateLimit-Limit", str(LIMIT)), ("RateLimit-Remaining", str(max(0, g.remaining))),
                                 ("RateLimit-Reset", str(reset - int(time.time()))), ("X-RateLimit-Limit", str(LIMIT)),
                                 ("X-RateLimit-Remaining", str(max(0, g.remaining))), ("X-RateLimit-Reset", str(reset))))
    response.headers["X-Request-Id"] = g.request_id
    route = request.url_rule.rule if request.url_rule else "<unmatched>"
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    SECONDS.labels(request.method, route).observe(time.perf_counter() - g.started)
    return response


@app.get("/healthz")
def healthz() -> object:
    """Ready probe."""
    return jsonify({"status": "ok"})


@app.post("/v1/posts")
def create() -> object:
    """Create a post: check each target's caption, store each target's content, number the event, fan it out."""
    ws = g.workspace
    try:
        body = PostIn.model_validate_json(request.get_data())
    except ValidationError as exc:
        return error(400, "invalid_request", str(exc.errors()[0]["msg"]))
    wanted = list(dict.fromkeys(body.account_ids))
    conn = db()
    found = {row[0]: row for row in conn.execute(
        f"SELECT id, platform, status FROM accounts WHERE workspace_id = ? AND deleted_at IS NULL AND id IN "
        f"({','.join('?' * len(wanted))})", (ws, *wanted))}
    if len(found) != len(wanted) or any(row[2] != "active" for row in found.values()):
        return error(400, "invalid_request", "unknown or inactive account")
    media = [m.model_dump() for m in body.media]
    content: dict[str, Any] = {"caption": body.caption, "media": media, "options": {}, "first_comment": None,
                               "thread": []}
    for account_id in wanted:
        if len(body.caption) > CAPTION_LIMITS.get(found[account_id][1], 100_000):
            return error(400, "invalid_request", f"caption too long for {found[account_id][1]}")
    now = datetime.now(UTC)
    post_id, status = new_id("post"), "scheduled" if body.scheduled_at else "publishing"
    due = stored(body.scheduled_at or now)
    content_json = json.dumps(content)
    targets = [(new_id("tgt"), post_id, i, ws, a, found[a][1], "scheduled", 0, due, stored(now), content_json)
               for i, a in enumerate(wanted)]
    event_id = new_id("evt")
    event = {"post_id": post_id, "status": status, "sequence": 1,
             "targets": [{"account_id": t[4], "platform": t[5]} for t in targets]}
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("INSERT INTO posts (id, workspace_id, status, caption, media, scheduled_at, event_seq, created_at,"
                     " updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                     (post_id, ws, status, body.caption, json.dumps(media),
                      stored(body.scheduled_at) if body.scheduled_at else None, stored(now), stored(now)))
        conn.executemany("INSERT INTO targets (id, post_id, position, workspace_id, account_id, platform, status,"
                         " attempts, next_attempt_at, updated_at, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         targets)
        conn.execute("INSERT INTO events (id, workspace_id, type, post_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (event_id, ws, f"post.{status}", post_id, json.dumps(event), stored(now)))
        endpoints = conn.execute("SELECT id, events FROM webhook_endpoints WHERE workspace_id = ? AND status = 'enabled'"
                                 " AND deleted_at IS NULL", (ws,)).fetchall()
        conn.executemany(
            "INSERT INTO deliveries (id, event_id, endpoint_id, workspace_id, status, attempts, next_attempt_at,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
            [(new_id("dlv"), event_id, e[0], ws, stored(now), stored(now), stored(now)) for e in endpoints
             if not e[1] or f"post.{status}" in json.loads(e[1])])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return jsonify(_post(post_id, status, body.caption, wire(body.scheduled_at) if body.scheduled_at else None, media,
                         [{"account_id": t[4], "platform": t[5], "status": "scheduled", "attempts": 0,
                           "next_attempt_at": wire(body.scheduled_at or now), "content": content} for t in targets],
                         wire(now), wire(now))), 201


@app.get("/v1/posts/<post_id>")
def get(post_id: str) -> object:
    """One post and its targets, each with the content it publishes."""
    conn = db()
    row = conn.execute("SELECT id, status, caption, media, scheduled_at, created_at, updated_at FROM posts"
                       " WHERE id = ? AND workspace_id = ?", (post_id, g.workspace)).fetchone()
    if row is None:
        return error(404, "not_found", "no such post")
    targets = [
        {"account_id": t[0], "platform": t[1], "status": t[2], "permalink": t[3], "platform_post_id": t[4],
         "attempts": t[5], "next_attempt_at": wire_text(t[6]) if t[2] in ("scheduled", "retrying") else None,
         "error": json.loads(t[7]) if t[7] else None, "content": json.loads(t[8]) if t[8] else None}
        for t in conn.execute("SELECT account_id, platform, status, permalink, platform_post_id, attempts,"
                              " next_attempt_at, error, content FROM targets WHERE post_id = ? ORDER BY position",
                              (post_id,))
    ]
    return jsonify(_post(row[0], row[1], row[2], wire_text(row[4]), json.loads(row[3]),
                         [{k: v for k, v in t.items() if v is not None} for t in targets],
                         wire_text(row[5]), wire_text(row[6])))


def _post(post_id: str, status: str, caption: str, scheduled_at: str | None, media: list[Any],
          targets: list[dict[str, Any]], created_at: str | None, updated_at: str | None) -> dict[str, Any]:
    return {"id": post_id, "status": status, "caption": caption, "scheduled_at": scheduled_at, "media": media,
            "platforms": None, "accounts": None, "first_comment": None, "thread": None, "targets": targets,
            "created_at": created_at, "updated_at": updated_at}
