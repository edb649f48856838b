"""Posts: the filtered, paged list; a post's page with each target, updated live; cancel (edit: edit.py).

The week and month calendar live in calendar.py (imported here so its views register with the posts pages).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, get_args

from flask import abort, flash, jsonify, render_template, request

from ..api.posts import cancel_post, ensure_editable, get_post, list_page, thread_json
from ..api.service import service
from ..errors import APIError, ConflictError, InvalidRequestError, NotFoundError
from ..models import PostStatus
from ..storage import accounts as accounts_store
from ..storage.posts import CANCELABLE, FINAL
from . import calendar  # noqa: F401  (the calendar's views)
from .blueprint import bp
from .forms import refused
from .localtime import ONE_DAY, day_start, parse_day, zone, zone_label
from .session import redirect_to, workspace_page

PAGE = 20  # posts per page of the list
POLL_FAST_MS, POLL_SLOW_MS = 1500, 30_000  # a target publishing now / the longest wait for one due later


def account_names(workspace_id: str) -> dict[str, dict[str, Any]]:
    """The workspace's accounts by id (a post's targets name them by id)."""
    with service().db.read() as conn:
        return {a["id"]: a for a in accounts_store.list_accounts(conn, workspace_id)}


@bp.get("/w/<workspace_id>/posts")
@workspace_page
def posts(workspace: dict[str, Any]) -> Any:
    """The posts, newest first: filtered by status, account and the dates they go out, paged by cursor."""
    args = request.args
    filters = {name: args.get(name, "").strip() for name in ("status", "account", "since", "until")}
    tz, error = zone(), None
    found: list[dict[str, Any]] = []
    next_cursor = None
    try:
        since, until = _day(filters["since"], "since"), _day(filters["until"], "until")
        found, next_cursor = list_page(
            service(), workspace["id"], limit=PAGE, cursor=args.get("cursor") or None,
            status=filters["status"] or None, account_id=filters["account"] or None,
            since=day_start(since, tz) if since else None, until=day_start(until + ONE_DAY, tz) if until else None)
    except InvalidRequestError as exc:
        error = exc.message
    active = {k: v for k, v in filters.items() if v}
    return render_template("posts/index.html", posts=found, next_cursor=next_cursor, filters=filters, active=active,
                           paged=bool(args.get("cursor")), statuses=get_args(PostStatus),
                           accounts=account_names(workspace["id"]), zone=zone_label(tz),
                           error=error), 400 if error else 200


def _day(value: str, name: str) -> date | None:
    try:
        return parse_day(value)
    except ValueError:
        raise InvalidRequestError(f"{name}: {value!r} is not a date (YYYY-MM-DD)", param=name) from None


def post_or_404(workspace: dict[str, Any], post_id: str) -> dict[str, Any]:
    try:
        return get_post(service(), workspace["id"], post_id)
    except NotFoundError:
        abort(404)  # another workspace's post looks exactly like one that does not exist


def _editable(post: dict[str, Any]) -> bool:
    """Whether the API would still take an edit of `post` (its rule, asked: never a copy)."""
    try:
        ensure_editable(post)
    except ConflictError:
        return False
    return True


def poll_after_ms(post: dict[str, Any], now: datetime) -> int:
    """How soon the page should ask again: 0 once every target is final and its thread and first comment are
    done, soon while one is publishing (a confirmed target's thread items are published after it)."""
    waiting = [t for t in post["targets"] if t["status"] not in FINAL or _follow_up(t)]
    if not waiting:
        return 0
    due = [t["next_attempt_at"] for t in waiting if t["status"] != "publishing" and t.get("next_attempt_at")]
    if len(due) < len(waiting):
        return POLL_FAST_MS
    wait_ms = (min(due) - now).total_seconds() * 1000
    return int(min(max(wait_ms, POLL_FAST_MS), POLL_SLOW_MS))


def _follow_up(target: dict[str, Any]) -> bool:
    """Whether a confirmed target still has thread items or a first comment to post."""
    thread, comment = target.get("thread"), target.get("first_comment")
    return target["status"] == "confirmed" and (
        (thread is not None and thread.get("status") == "pending") or (comment is not None and comment.get("status") == "pending"))


def _live_context(workspace: dict[str, Any], post: dict[str, Any]) -> dict[str, Any]:
    threads = {t["account_id"]: thread_json(t["thread"]) for t in post["targets"] if t.get("thread")}
    return {"post": post, "accounts": account_names(workspace["id"]), "threads": threads,
            "cancelable": any(t["status"] in CANCELABLE for t in post["targets"]), "editable": _editable(post),
            "poll_ms": poll_after_ms(post, service().clock())}


@bp.get("/w/<workspace_id>/posts/<post_id>")
@workspace_page
def posts_detail(workspace: dict[str, Any], post_id: str) -> Any:
    """One post: its content, and each target's status, attempts, next attempt, error and permalink."""
    post = post_or_404(workspace, post_id)
    return render_template("posts/detail.html", **_live_context(workspace, post), zone=zone_label())


@bp.get("/w/<workspace_id>/posts/<post_id>/live")
@workspace_page
def posts_live(workspace: dict[str, Any], post_id: str) -> Any:
    """What posts.js polls: the post's status and its targets section rendered by the page's own template."""
    post = post_or_404(workspace, post_id)
    context = _live_context(workspace, post)
    return jsonify(status=post["status"], poll_ms=context["poll_ms"],
                   html=render_template("posts/_live.html", **context))


@bp.post("/w/<workspace_id>/posts/<post_id>/cancel")
@workspace_page
def posts_cancel(workspace: dict[str, Any], post_id: str) -> Any:
    """Cancel every target that has not started (DELETE /v1/posts/:id)."""
    here = {"workspace_id": workspace["id"], "post_id": post_id}
    try:
        post = cancel_post(service(), workspace["id"], post_id)
    except APIError as exc:
        return refused(exc, "dashboard.posts_detail", **here)
    flash(f"Post canceled: {sum(t['status'] == 'canceled' for t in post['targets'])} target(s) will not be published.")
    return redirect_to("dashboard.posts_detail", **here)
