"""Composer: write a post, see each platform's counter and refusals as you type, publish now or schedule it.

Every rule comes from the API's own preflight (`api.posts.validation` / `create_post`); this module and draft.py
only turn the form into a `PostCreate` and the refusals back into messages beside their fields. The edit page
(edit.py) draws the same form through `render_form`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Response, flash, jsonify, make_response, render_template, request

from .. import platforms
from ..api.idempotency import once
from ..api.posts import create_post, post_json, validation
from ..api.service import service
from ..errors import ConflictError, InvalidRequestError
from ..storage import accounts as accounts_store
from . import options_form, thread_form
from .blueprint import bp
from .draft import Draft, counters, new_key, picked_platforms, problems, read_form, refusal, scheduled_at, to_body
from .localtime import local, zone_label
from .session import redirect_to, workspace_page

KEY_PREFIX = "dashboard:"  # composer keys never meet a client's own Idempotency-Key values
RESENT = ("This form was already sent with different content, so nothing new was {done}. "
          "Check the posts list; to send this version, submit again.")


def active_accounts(workspace: dict[str, Any]) -> list[dict[str, Any]]:
    """The accounts a post may go to."""
    with service().db.read() as conn:
        return [a for a in accounts_store.list_accounts(conn, workspace["id"]) if a["status"] == "active"]


def offered_platforms(accounts: list[dict[str, Any]]) -> list[str]:
    """The platforms the form offers a version and options for: those of the workspace's active accounts."""
    return sorted({a["platform"] for a in accounts})


def _platform_forms(names: list[str]) -> list[dict[str, Any]]:
    return [{"name": name, "label": (platforms.adapter_class(name).label if name in platforms.REGISTRY else "")
             or name.title(), "options": options_form.fields(name)} for name in names]


def render_form(workspace: dict[str, Any], draft: Draft, shown: list[dict[str, str]] | None = None,
                status: int = 200, error: str | None = None, post: dict[str, Any] | None = None) -> Any:
    """The composer form (an edit form when `post` is given), each problem beside its field."""
    accounts = active_accounts(workspace)
    if post is not None:  # an edited post keeps its accounts even if one is no longer active: preflight says so
        with service().db.read() as conn:
            known = {a["id"]: a for a in accounts_store.list_accounts(conn, workspace["id"])}
        accounts += [known[i] for i in draft.account_ids if i in known and known[i] not in accounts]
    by_slot: dict[str, list[dict[str, str]]] = {}
    for problem in shown or []:
        by_slot.setdefault(problem["slot"], []).append(problem)
    draft.timezone = draft.timezone or zone_label()
    main, own = counters(accounts, draft)
    by_item: dict[int, list[dict[str, Any]]] = {}
    for counter in thread_form.counters(draft.thread, picked_platforms(draft, accounts)):
        by_item.setdefault(counter["item"], []).append(counter)
    return render_template("posts/composer.html", draft=draft, accounts=accounts, problems=by_slot, counters=main,
                           own_counters={c["platform"]: c for c in own}, thread_counters=by_item, error=error, post=post,
                           versions=_platform_forms(offered_platforms(accounts)), shown=options_form.shown), status


def submit_once(workspace: dict[str, Any], draft: Draft, purpose: str, body_json: str,
                run: Callable[[], Response]) -> Response:
    """`run` once per form render (the form's idempotency key); a resend of the same form replays its answer."""
    if not 16 <= len(draft.key) <= 64 or not draft.key.isascii() or not draft.key.isprintable():
        draft.key = new_key()  # no usable key (a hand-made form): this submit is its own request
    fingerprint = hashlib.sha256(f"dashboard {purpose}\n".encode() + body_json.encode()).hexdigest()
    return once(workspace["id"], KEY_PREFIX + draft.key, fingerprint, run)


@bp.route("/w/<workspace_id>/compose", methods=["GET", "POST"])
@workspace_page
def composer(workspace: dict[str, Any]) -> Any:
    """The composer; its submit creates the post (once per form render) and opens the post's page."""
    if request.method == "GET":
        return render_form(workspace, Draft(account_ids=request.args.getlist("account")))
    accounts = active_accounts(workspace)
    draft = read_form(offered_platforms(accounts))
    try:
        body = to_body(draft, accounts)
    except InvalidRequestError as exc:
        return render_form(workspace, draft, refusal(exc, draft), 400)
    svc = service()

    def run() -> Response:
        return make_response(post_json(create_post(svc, workspace, body)), 201)

    try:
        response = submit_once(workspace, draft, "compose", body.model_dump_json(), run)
    except ConflictError:  # this form was sent before with other content (back button, then an edit)
        draft.key = new_key()
        return render_form(workspace, draft, status=409, error=RESENT.format(done="created"))
    answer = response.get_json()
    if response.status_code != 201:
        draft.key = new_key()  # a refused draft, once fixed, is a new request
        return render_form(workspace, draft, refusal(answer["error"], draft), response.status_code)
    when = body.scheduled_at
    flash(f"Scheduled for {local(when).strftime('%Y-%m-%d %H:%M')} ({zone_label()})." if when else
          "Publishing now. This page follows each account until it confirms.")
    return redirect_to("dashboard.posts_detail", workspace_id=workspace["id"], post_id=answer["id"])


@bp.post("/w/<workspace_id>/compose/check")
@workspace_page
def composer_check(workspace: dict[str, Any]) -> Any:
    """The live check (posts.js, debounced): the same validation as POST /v1/posts/validate, nothing created."""
    accounts = active_accounts(workspace)
    draft = read_form(offered_platforms(accounts))
    try:
        answer = validation(service(), workspace["id"], to_body(draft, accounts))
        shown = problems(answer["details"], draft)
    except InvalidRequestError as exc:
        shown = refusal(exc, draft)
    main, own = counters(accounts, draft)
    return jsonify(valid=not shown, problems=shown, counters=main, version_counters=own,
                   thread_counters=thread_form.counters(draft.thread, picked_platforms(draft, accounts)),
                   scheduled_at=scheduled_at(draft) if draft.when == "later" and draft.scheduled_local else None)
