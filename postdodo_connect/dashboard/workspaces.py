"""`/`: on to the user's first workspace; the pages every error shares."""

from __future__ import annotations

import logging
from typing import Any

from flask import g, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ..api.service import service
from ..storage import users as users_store
from .blueprint import bp
from .session import current_user, login_required, redirect_to

log = logging.getLogger("postdodo.dashboard")


@bp.get("/")
@login_required
def home() -> Any:
    """The first workspace's posts, or what to do when the user belongs to none."""
    user = current_user()
    assert user is not None
    with service().db.read() as conn:
        workspaces = users_store.user_workspaces(conn, user["id"])
    if not workspaces:
        return render_template("no_workspace.html")
    return redirect_to("dashboard.posts", workspace_id=workspaces[0]["id"])


@bp.errorhandler(HTTPException)
def _error_page(error: HTTPException) -> Any:
    """Dashboard errors as pages (the API's handler answers JSON for /v1)."""
    return render_template("error.html", error=error), error.code or 500


@bp.errorhandler(Exception)
def _crash_page(error: Exception) -> Any:
    """A bug: the traceback to our log, a plain page with the request id to the browser."""
    log.exception("unhandled error on %s %s (%s)", request.method, request.path, g.get("request_id"))
    return render_template("error.html", error=InternalServerError(
        f"Something went wrong on our side. Quote request id {g.get('request_id')} when you report it.")), 500
