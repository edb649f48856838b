"""Composer: write a post, see each platform's counter and refusals as you type, publish now or schedule it.

Every rule comes from the API's own preflight (`api.posts.validation` / `create_post`); this module only turns
the form into a `PostCreate` and the refusals back into messages beside their fields.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import Response, flash, jsonify, make_response, render_template, request
from pydantic import ValidationError

from .. import platforms
from ..api.boundary import invalid
from ..api.idempotency import once
from ..api.posts import create_post, post_json, validation
from ..api.service import service
from ..errors import APIError, ConflictError, InvalidRequestError
from ..models import PostCreate
from ..storage import accounts as accounts_store
from .blueprint import bp
from .localtime import local, parse_local, utc_iso, zone_label, zone_named
from .session import redirect_to, workspace_page

MEDIA_ROWS = 4  # media URL rows on the form; the API takes more, a post here rarely needs them
KEY_PREFIX = "dashboard:"  # composer keys never meet a client's own Idempotency-Key values
# the form's names for the API's fields, to say which one a message is about
FIELD_NAMES = {"caption": "Caption", "account_ids": "Accounts", "media": "Media", "scheduled_at": "When"}


@dataclass
class Draft:
    """The composer form as typed (re-shown as is when the post is refused)."""

    caption: str = ""
    account_ids: list[str] = field(default_factory=list)
    media: list[tuple[str, str]] = field(default_factory=lambda: [("", "image")] * MEDIA_ROWS)
    when: str = "now"
    scheduled_local: str = ""
    timezone: str = ""
    #: this form render's idempotency key: a double submit of it creates one post
    key: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    def used_rows(self) -> list[int]:
        """The media rows that hold a URL, in order (media[i] of the post is row used_rows()[i])."""
        return [i for i, (url, _) in enumerate(self.media) if url]


def read_form() -> Draft:
    """The submitted form (browsers send CRLF line ends; the caption counts what the person typed)."""
    form = request.form
    urls, kinds = form.getlist("media_url"), form.getlist("media_type")
    media = [((urls[i] if i < len(urls) else "").strip(), kinds[i] if i < len(kinds) else "image")
             for i in range(MEDIA_ROWS)]
    return Draft(caption=form.get("caption", "").replace("\r\n", "\n"), account_ids=form.getlist("account_ids"),
                 media=media, when=form.get("when", "now"), scheduled_local=form.get("scheduled_local", "").strip(),
                 timezone=form.get("timezone", ""), key=form.get("idempotency_key", ""))


def to_body(draft: Draft) -> PostCreate:
    """The draft as the API's request model; InvalidRequestError with one detail per problem."""
    data: dict[str, Any] = {"caption": draft.caption, "account_ids": draft.account_ids,
                            "media": [{"url": draft.media[i][0], "type": draft.media[i][1]} for i in draft.used_rows()]}
    if draft.when == "later":
        try:
            data["scheduled_at"] = utc_iso(parse_local(draft.scheduled_local, zone_named(draft.timezone)))
        except ValueError:
            message = "pick a date and time to schedule it, or choose to publish now"
            raise InvalidRequestError(message, param="scheduled_at", details=[
                {"field": "scheduled_at", "rule": "dashboard.schedule.missing", "message": message}]) from None
    try:
        return PostCreate.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from None


def slot(field_name: str, draft: Draft) -> str:
    """Which part of the form a detail's `field` ("caption", "media.1.url", "media[0]") is about."""
    head = field_name.split(".", 1)[0].split("[", 1)[0]
    if head == "media" and field_name != "media":
        index = field_name[len("media"):].strip(".[").split(".", 1)[0].rstrip("]")
        rows = draft.used_rows()
        if index.isdigit() and int(index) < len(rows):
            return f"media-{rows[int(index)]}"
    return {"caption": "caption", "account_ids": "accounts", "media": "media", "scheduled_at": "when"}.get(head, "form")


def problems(details: list[dict[str, str]], draft: Draft) -> list[dict[str, str]]:
    """API `details` as messages for the form: where each goes, and a label for the platform it concerns."""
    shown = []
    for detail in details:
        platform = detail.get("platform") or ""
        label = (platforms.adapter_class(platform).label or platform.title()) if platform in platforms.REGISTRY else ""
        message, head = detail["message"], detail["field"].split(".", 1)[0]
        # a platform's message names the platform; the API's own ("needs at least 1 item") needs its field named
        if not platform and head in FIELD_NAMES and head != "media":
            message = f"{FIELD_NAMES[head]}: {message}"
        shown.append({"slot": slot(detail["field"], draft), "platform": platform, "label": label,
                      "rule": detail.get("rule", ""), "message": message})
    return shown


def refusal(error: APIError | dict[str, Any], draft: Draft) -> list[dict[str, str]]:
    """An APIError (or its JSON body) as form messages."""
    body = error.to_body()["error"] if isinstance(error, APIError) else error
    details = body.get("details") or [{"field": body.get("param") or "", "message": body["message"]}]
    return problems(details, draft)


def counters(accounts: list[dict[str, Any]], draft: Draft) -> list[dict[str, Any]]:
    """Caption length against the limit of each picked account's platform, in that platform's own unit."""
    media = [platforms.Media(type=draft.media[i][1], url=draft.media[i][0]) for i in draft.used_rows()]
    names = sorted({a["platform"] for a in accounts if a["id"] in draft.account_ids and a["platform"] in platforms.REGISTRY})
    found = []
    for name in names:
        adapter = platforms.get(name)
        limit, length = adapter.caption_limit(media), adapter.caption_length(draft.caption)
        found.append({"platform": name, "label": adapter.label or name.title(), "length": length, "limit": limit,
                      "unit": adapter.caption_unit or "characters", "over": bool(limit and length > limit)})
    return found


def _accounts(workspace: dict[str, Any]) -> list[dict[str, Any]]:
    with service().db.read() as conn:
        return [a for a in accounts_store.list_accounts(conn, workspace["id"]) if a["status"] == "active"]


def _form(workspace: dict[str, Any], draft: Draft, shown: list[dict[str, str]] | None = None,
          status: int = 200, error: str | None = None) -> Any:
    accounts = _accounts(workspace)
    by_slot: dict[str, list[dict[str, str]]] = {}
    for problem in shown or []:
        by_slot.setdefault(problem["slot"], []).append(problem)
    draft.timezone = draft.timezone or zone_label()
    return render_template("posts/composer.html", draft=draft, accounts=accounts, problems=by_slot,
                           counters=counters(accounts, draft), media_rows=range(MEDIA_ROWS), error=error), status


@bp.route("/w/<workspace_id>/compose", methods=["GET", "POST"])
@workspace_page
def composer(workspace: dict[str, Any]) -> Any:
    """The composer; its submit creates the post (once per form render) and opens the post's page."""
    if request.method == "GET":
        return _form(workspace, Draft(account_ids=request.args.getlist("account")))
    draft = read_form()
    try:
        body = to_body(draft)
    except InvalidRequestError as exc:
        return _form(workspace, draft, refusal(exc, draft), 400)
    svc = service()

    def run() -> Response:
        return make_response(post_json(create_post(svc, workspace, body)), 201)

    if not 16 <= len(draft.key) <= 64 or not draft.key.isascii() or not draft.key.isprintable():
        draft.key = Draft().key  # no usable key (a hand-made form): this submit is its own request
    fingerprint = hashlib.sha256(b"dashboard compose\n" + body.model_dump_json().encode()).hexdigest()
    try:
        response = once(workspace["id"], KEY_PREFIX + draft.key, fingerprint, run)
    except ConflictError:  # this form was sent before with other content (back button, then an edit)
        draft.key = Draft().key
        return _form(workspace, draft, status=409, error=(
            "This form was already sent with different content, so nothing new was created. "
            "Check the posts list; to send this version, submit again."))
    answer = response.get_json()
    if response.status_code != 201:
        draft.key = Draft().key  # a refused draft, once fixed, is a new request
        return _form(workspace, draft, refusal(answer["error"], draft), response.status_code)
    when = body.scheduled_at
    flash(f"Scheduled for {local(when).strftime('%Y-%m-%d %H:%M')} ({zone_label()})." if when else
          "Publishing now. This page follows each account until it confirms.")
    return redirect_to("dashboard.posts_detail", workspace_id=workspace["id"], post_id=answer["id"])


@bp.post("/w/<workspace_id>/compose/check")
@workspace_page
def composer_check(workspace: dict[str, Any]) -> Any:
    """The live check (posts.js, debounced): the same validation as POST /v1/posts/validate, nothing created."""
    draft = read_form()
    accounts = _accounts(workspace)
    try:
        answer = validation(service(), workspace["id"], to_body(draft))
        shown = problems(answer["details"], draft)
    except InvalidRequestError as exc:
        shown = refusal(exc, draft)
    scheduled = None
    if draft.when == "later" and draft.scheduled_local:
        try:
            scheduled = utc_iso(parse_local(draft.scheduled_local, zone_named(draft.timezone)))
        except ValueError:
            pass
    return jsonify(valid=not shown, problems=shown, counters=counters(accounts, draft), scheduled_at=scheduled)
