"""/v1/posts: create (with preflight), validate, list, get, edit, cancel, unpublish."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, get_args

from flask import Blueprint, Response, request
from werkzeug.exceptions import MethodNotAllowed

from .. import platforms
from ..errors import ConflictError, InvalidRequestError, NotFoundError
from ..models import PostCreate, PostStatus, PostUpdate, TargetError, format_time
from ..storage import accounts as accounts_store
from ..storage import posts as store
from ..storage import unpublish as unpublish_store
from . import versions
from .auth import workspace
from .boundary import known_args, limit_param, read_json
from .idempotency import idempotent
from .service import Service, service, time_and_id

bp = Blueprint("posts", __name__, url_prefix="/v1/posts")

PAST_TOLERANCE = timedelta(seconds=5)  # clock skew between caller and us, not a way to backdate


def post_json(post: dict[str, Any]) -> dict[str, Any]:
    """A stored post as its public JSON: `Post`'s fields in its order, targets without their null fields."""
    # built by hand: validating the stored row into `Post` and dumping it again cost more than reading it
    # (tests/api/test_post_json.py holds this equal to that model round trip)
    scheduled, updated = post["scheduled_at"], post.get("updated_at")
    given = post.get("versions") or {}
    media = [_media_json(m) for m in post["media"]]
    return {
        "id": post["id"], "status": post["status"], "caption": post["caption"],
        "scheduled_at": None if scheduled is None else format_time(scheduled),
        "media": media,
        "platforms": _versions_json(given.get("platforms")), "accounts": _versions_json(given.get("accounts")),
        "first_comment": given.get("first_comment"),
        "thread": _thread_items_json(given.get("thread")),
        "targets": [_target_json(t, post["caption"], media) for t in post["targets"]],
        "created_at": format_time(post["created_at"]),
        "updated_at": None if updated is None else format_time(updated),
    }


def _versions_json(given: dict[str, Any] | None) -> dict[str, Any] | None:
    if given is None:
        return None
    return {key: {"caption": v.get("caption"),
                  "media": None if v.get("media") is None else [_media_json(m) for m in v["media"]],
                  "options": v.get("options"), "first_comment": v.get("first_comment"),
                  "thread": _thread_items_json(v.get("thread"))} for key, v in given.items()}


def _thread_items_json(items: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    return [{"caption": item.get("caption", ""), "media": [_media_json(m) for m in item.get("media") or ()]}
            for item in items]


def _media_json(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": item.get("type", "image"), "url": item["url"], "alt": item.get("alt")}


def _target_json(target: dict[str, Any], caption: str, media: list[dict[str, Any]]) -> dict[str, Any]:
    data = {"account_id": target["account_id"], "platform": target["platform"], "status": target["status"]}
    for name in ("phase", "permalink", "platform_post_id"):
        if target.get(name) is not None:
            data[name] = target[name]
    data["attempts"] = target.get("attempts") or 0
    if target.get("next_attempt_at") is not None:
        data["next_attempt_at"] = format_time(target["next_attempt_at"])
    if target.get("error") is not None:
        data["error"] = TargetError.model_validate(target["error"]).model_dump(mode="json")
    content = target.get("content")  # None: a target from before versions, publishing the post's own content
    data["content"] = {"caption": caption, "media": media, "options": {}, "first_comment": None, "thread": []} \
        if content is None else {
        "caption": content["caption"], "media": [_media_json(m) for m in content["media"]],
        "options": content.get("options") or {}, "first_comment": content.get("first_comment"),
        "thread": _thread_items_json(content.get("thread")) or []}
    if (comment := target.get("first_comment")) is not None:
        data["first_comment"] = {"status": comment["status"], **{
            name: comment[name] for name in ("platform_post_id", "permalink", "error") if comment.get(name) is not None}}
    if (thread := target.get("thread")) is not None:
        data["thread"] = thread_json(thread)
    return data


def thread_json(thread: dict[str, Any]) -> dict[str, Any]:
    """A target's thread progress as the API shows it (the in-flight call and handles stay inside)."""
    items = [{"status": item["status"], **{name: item[name] for name in ("platform_post_id", "permalink", "error")
                                           if item.get(name) is not None}} for item in thread["items"]]
    return {"status": thread["status"], "published": sum(1 for item in thread["items"] if item.get("platform_post_id")),
            "total": len(items), "items": items}


def preflight(body: PostCreate, workspace_id: str,
              now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, str]], list[dict[str, Any]]]:
    """The accounts a post targets, every problem with it (empty when it can be created), and what each
    target publishes (its versions applied)."""
    problems: list[dict[str, str]] = []
    empty = not body.platforms and not body.accounts and not body.caption.strip() and not body.media
    if empty:
        problems.append({"field": "caption", "rule": "post.content.required",
                         "message": "a post needs a caption or at least one media item"})
    if body.scheduled_at is not None and body.scheduled_at < now - PAST_TOLERANCE:
        problems.append({"field": "scheduled_at", "rule": "post.scheduled_at.past",
                         "message": f"scheduled_at {format_time(body.scheduled_at)} is in the past; omit it to publish now"})
    seen: set[str] = set()
    for account_id in body.account_ids:
        if account_id in seen:
            problems.append({"field": "account_ids", "rule": "post.account_ids.duplicate",
                             "message": f"{account_id} is listed twice"})
        seen.add(account_id)
    with service().db.lean_read(single=True) as conn:
        found = accounts_store.get_accounts(conn, workspace_id, seen)
    for account_id in sorted(seen - set(found)):
        problems.append({"field": "account_ids", "rule": "post.account_ids.unknown",
                         "message": f"no account {account_id} in this workspace"})
    for account in found.values():
        if account["status"] != "active":
            problems.append({"field": "account_ids", "platform": account["platform"],
                             "rule": f"account.{account['status']}",
                             "message": f"account {account['id']} is {account['status']}; reconnect it first"})
    problems.extend(versions.version_keys_problems(body, found))
    problems.extend(versions.media_url_problems(body))
    ordered = [found[a] for a in dict.fromkeys(body.account_ids) if a in found]
    contents = []
    for account in ordered:  # targets with the same content meet the same rules: report those once
        content, option_problems = versions.effective(body, account)
        contents.append(content)
        for problem in option_problems + versions.target_problems(account, content) + _first_comment_problems(
                account, content) + versions.thread_problems(account, content):
            if problem not in problems and not (empty and problem["rule"] == "post.content.required"):
                problems.append(problem)
    return ordered, problems, contents


def _first_comment_problems(account: dict[str, Any], content: dict[str, Any]) -> list[dict[str, str]]:
    """A first comment asked of a target whose platform has none."""
    name = account["platform"]
    if not content.get("first_comment") or platforms.adapter_class(name).has_first_comment:
        return []
    return [{"field": "first_comment", "platform": name, "rule": f"{name}.first_comment.unsupported",
             "message": f"{platforms.adapter_class(name).label or name} has no first comment"}]


def create_post(svc: Service, ws: dict[str, Any], body: PostCreate) -> dict[str, Any]:
    """Create a post after its preflight (the rules of POST /v1/posts, shared with the dashboard's composer)."""
    now = svc.clock()
    targets, problems, contents = preflight(body, ws["id"], now)
    if problems:
        first = problems[0]
        raise InvalidRequestError(
            f"post refused: {first['message']}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            param=first["field"], details=problems,
        )
    with svc.db.lean_write() as conn:
        post = store.create_post(conn, ws["id"], caption=body.caption,
                                 media=[m.model_dump(exclude_none=True) for m in body.media],
                                 scheduled_at=body.scheduled_at, accounts=targets, now=now,
                                 versions=versions.stored_versions(body), contents=contents)
    if body.scheduled_at is None or body.scheduled_at <= now:
        svc.kick()
    return post


@bp.post("")
@idempotent
def create() -> tuple[dict[str, Any], int]:
    """Create a post, scheduled or publishing now."""
    return post_json(create_post(service(), workspace(), read_json(PostCreate))), 201


def validation(svc: Service, workspace_id: str, body: PostCreate) -> dict[str, Any]:
    """The answer of POST /v1/posts/validate (and of the composer's live check): every problem, nothing created."""
    _, problems, _ = preflight(body, workspace_id, svc.clock())
    return {"valid": not problems, "details": problems}


@bp.route("/validate", methods=["POST"], provide_automatic_options=False)  # OPTIONS: the rule below
def validate() -> dict[str, Any]:
    """Dry run: every problem the same body would meet, nothing created."""
    return validation(service(), workspace()["id"], read_json(PostCreate))


# `validate` is no post id: without this rule GET/DELETE /v1/posts/validate would look up a post "validate"
# and OPTIONS would list their methods; static rules match before `/<post_id>`
@bp.route("/validate", methods=["GET", "DELETE", "PUT", "PATCH", "OPTIONS"], provide_automatic_options=False)
def validate_other_methods() -> Response:
    """OPTIONS lists POST; any other method is a 405."""
    if request.method == "OPTIONS":
        return Response(status=200, headers={"Allow": "POST, OPTIONS"})
    raise MethodNotAllowed(valid_methods=["POST", "OPTIONS"])


def list_page(svc: Service, workspace_id: str, *, limit: int, cursor: str | None = None, status: str | None = None,
              account_id: str | None = None, since: datetime | None = None,
              until: datetime | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of posts, newest first, and the cursor of the next (the list of GET /v1/posts and the dashboard)."""
    if status and status not in get_args(PostStatus):
        raise InvalidRequestError(f"unknown status {status!r}", param="status")
    after = svc.load_cursor(cursor, time_and_id) if cursor else None
    with svc.db.read() as conn:
        found, has_more = store.list_posts(conn, workspace_id, limit=limit, after=after, status=status,
                                           account_id=account_id, since=since, until=until)
    next_cursor = None
    if has_more:
        last = found[-1]
        next_cursor = svc.dump_cursor([last["created_at"].isoformat(), last["id"]])
    return found, next_cursor


@bp.get("")
def list_() -> dict[str, Any]:
    """Posts newest first, filtered by status or account, paged by cursor."""
    known_args("limit", "cursor", "status", "account_id")
    found, next_cursor = list_page(service(), workspace()["id"], limit=limit_param(20),
                                   cursor=request.args.get("cursor") or None, status=request.args.get("status") or None,
                                   account_id=request.args.get("account_id") or None)
    return {"data": [post_json(p) for p in found], "has_more": next_cursor is not None, "next_cursor": next_cursor}


def get_post(svc: Service, workspace_id: str, post_id: str) -> dict[str, Any]:
    """One post of the workspace with its targets; NotFoundError for any other id (another workspace's too)."""
    with svc.db.lean_read() as conn:
        post = store.get_post(conn, workspace_id, post_id)
    if post is None:
        raise NotFoundError(f"no post {post_id}", param="id")
    return post


@bp.get("/<post_id>")
def get(post_id: str) -> dict[str, Any]:
    """One post with each target's status, attempts, permalink and error."""
    return post_json(get_post(service(), workspace()["id"], post_id))


def ensure_editable(post: dict[str, Any]) -> None:
    """ConflictError unless every target of `post` is still waiting (the edit rule of PATCH and the dashboard)."""
    if any(t["status"] != "scheduled" for t in post["targets"]):
        raise ConflictError(f"post {post['id']} can no longer be edited: it is {post['status']}")


def update_post(svc: Service, ws: dict[str, Any], post_id: str, change: PostUpdate) -> dict[str, Any]:
    """Edit a post no target of which has started: the same preflight as a new post; 409 once one has."""
    post = get_post(svc, ws["id"], post_id)
    ensure_editable(post)
    given = change.model_fields_set
    stored = post.get("versions") or {}
    merged = {"caption": post["caption"], "account_ids": [t["account_id"] for t in post["targets"]],
              "media": post["media"], "platforms": stored.get("platforms"), "accounts": stored.get("accounts"),
              "first_comment": stored.get("first_comment"), "thread": stored.get("thread")}
    merged |= change.model_dump(include=given - {"scheduled_at"}, exclude_none=False)
    # scheduled_at: kept unless given; `null` publishes now; only a new time is checked against the clock
    schedule = change.scheduled_at if "scheduled_at" in given else post["scheduled_at"]
    body = PostCreate.model_validate(merged | {"scheduled_at": change.scheduled_at}, strict=False)
    now = svc.clock()
    targets, problems, contents = preflight(body, ws["id"], now)
    if problems:
        first = problems[0]
        raise InvalidRequestError(
            f"edit refused: {first['message']}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            param=first["field"], details=problems)
    try:
        with svc.db.write() as conn:
            updated = store.update_post(conn, ws["id"], post_id, caption=body.caption,
                                        media=[m.model_dump(exclude_none=True) for m in body.media],
                                        scheduled_at=schedule, versions=versions.stored_versions(body),
                                        accounts=targets, contents=contents, now=now)
    except store.NotEditable:
        raise ConflictError(f"post {post_id} can no longer be edited: a target has started publishing") from None
    if updated is None:
        raise NotFoundError(f"no post {post_id}", param="id")
    if schedule is None or schedule <= now:
        svc.kick()
    return updated


@bp.patch("/<post_id>")
@idempotent
def update(post_id: str) -> dict[str, Any]:
    """Edit a post while no target has started publishing."""
    return post_json(update_post(service(), workspace(), post_id, read_json(PostUpdate)))


def cancel_post(svc: Service, workspace_id: str, post_id: str) -> dict[str, Any]:
    """Cancel every target that has not started publishing; 404 for an unknown post, 409 when none is left."""
    with svc.db.write() as conn:
        post, canceled = store.cancel_post(conn, workspace_id, post_id, svc.clock())
    if post is None:
        raise NotFoundError(f"no post {post_id}", param="id")
    if not canceled:
        raise ConflictError(f"post {post_id} has no target left to cancel (it is {post['status']})")
    return post


@bp.delete("/<post_id>")
def cancel(post_id: str) -> dict[str, Any]:
    """Cancel every target that has not started publishing."""
    return post_json(cancel_post(service(), workspace()["id"], post_id))


def unpublish_post(svc: Service, workspace_id: str, post_id: str) -> dict[str, Any]:
    """Queue the deletion of every published target the platform can delete; 409 when nothing is published."""
    with svc.db.write() as conn:
        post, plan = unpublish_store.request_unpublish(conn, workspace_id, post_id, svc.clock(),
                                                       lambda name: platforms.adapter_class(name).can_delete)
    if post is None:
        raise NotFoundError(f"no post {post_id}", param="id")
    if all(step["action"] == "not_published" for step in plan):
        raise ConflictError(f"post {post_id} has nothing published to unpublish (it is {post['status']})")
    if any(step["action"] == "unpublishing" for step in plan):
        svc.kick()  # the deletes run on the engine, never in this request
    return {"post": post_json(post), "targets": plan}


@bp.post("/<post_id>/unpublish")
def unpublish(post_id: str) -> tuple[dict[str, Any], int]:
    """Delete the post from the platforms that allow it; 202 with the plan per target."""
    return unpublish_post(service(), workspace()["id"], post_id), 202
