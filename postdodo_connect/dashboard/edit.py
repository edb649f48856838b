"""Edit a scheduled post: the composer's form filled with the post, sent to PATCH /v1/posts/:id's own function.

Whether a post may still be edited is the API's rule (`ensure_editable`, `update_post`): the page only asks it.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, make_response, request
from werkzeug.wrappers import Response as Redirect

from ..api.posts import ensure_editable, post_json, update_post
from ..api.service import service
from ..errors import APIError, ConflictError, InvalidRequestError
from ..models import PostCreate, PostUpdate
from .blueprint import bp
from .composer import RESENT, active_accounts, offered_platforms, render_form, submit_once
from .draft import from_post, new_key, picked_platforms, read_form, refusal, to_body
from .localtime import local, zone, zone_label
from .posts import post_or_404
from .session import redirect_to, workspace_page

KEPT = ("media", "first_comment", "thread")  # a platform version's fields the form does not show: an edit keeps them
NOT_EDITABLE = " Its accounts have started publishing, so it can only be canceled or, once published, unpublished."


def to_change(body: PostCreate, post: dict[str, Any], picked: list[str]) -> PostUpdate:
    """The form's post as a PATCH body: every field the form shows, and what it does not show kept as stored."""
    stored = post.get("versions") or {}
    given = body.model_dump(mode="json", exclude_none=True, include={"platforms"}).get("platforms", {})
    versions: dict[str, Any] = {}
    for name in picked:
        kept = {k: v for k, v in ((stored.get("platforms") or {}).get(name) or {}).items() if k in KEPT}
        if merged := kept | given.get(name, {}):
            versions[name] = merged
    change: dict[str, Any] = {"caption": body.caption, "account_ids": body.account_ids,
                              "media": [m.model_dump(mode="json", exclude_none=True) for m in body.media],
                              "scheduled_at": body.scheduled_at, "platforms": versions or None,
                              "first_comment": body.first_comment,
                              "thread": None if body.thread is None else [
                                  t.model_dump(mode="json", exclude_none=True) for t in body.thread]}
    if stored.get("accounts"):  # per-account versions come from the API only; those of dropped accounts go
        change["accounts"] = {k: v for k, v in stored["accounts"].items() if k in body.account_ids} or None
    return PostUpdate.model_validate(change)


def _refused(error: APIError | str, here: dict[str, str]) -> Redirect:
    message = error if isinstance(error, str) else error.message
    flash(message[:1].upper() + message[1:] + "." + NOT_EDITABLE, "error")
    return redirect_to("dashboard.posts_detail", **here)


@bp.route("/w/<workspace_id>/posts/<post_id>/edit", methods=["GET", "POST"])
@workspace_page
def posts_edit(workspace: dict[str, Any], post_id: str) -> Any:
    """The edit form of a post that has not started; its submit edits the post once per form render."""
    here = {"workspace_id": workspace["id"], "post_id": post_id}
    post = post_or_404(workspace, post_id)
    try:
        ensure_editable(post)
    except ConflictError as exc:
        return _refused(exc, here)
    if request.method == "GET":
        return render_form(workspace, from_post(post, zone(), zone_label()), post=post)
    accounts = active_accounts(workspace)
    draft = read_form(offered_platforms(accounts))
    try:
        change = to_change(to_body(draft, accounts), post, picked_platforms(draft, accounts))
    except InvalidRequestError as exc:
        return render_form(workspace, draft, refusal(exc, draft), 400, post=post)
    svc = service()

    def run() -> Response:
        return make_response(post_json(update_post(svc, workspace, post_id, change)), 200)

    try:
        response = submit_once(workspace, draft, f"edit {post_id}", change.model_dump_json(), run)
    except ConflictError:  # this form was sent before with other content (back button, then a change)
        draft.key = new_key()
        return render_form(workspace, draft, status=409, error=RESENT.format(done="changed"), post=post)
    answer = response.get_json()
    if response.status_code == 404:
        abort(404)
    if response.status_code == 409:  # a target started between the page and the submit
        return _refused(answer["error"]["message"], here)
    if response.status_code != 200:
        draft.key = new_key()  # a refused draft, once fixed, is a new request
        return render_form(workspace, draft, refusal(answer["error"], draft), response.status_code, post=post)
    when = change.scheduled_at
    flash("Post updated. " + (f"Scheduled for {local(when).strftime('%Y-%m-%d %H:%M')} ({zone_label()})." if when
                              else "Publishing now. This page follows each account until it confirms."))
    return redirect_to("dashboard.posts_detail", **here)
