"""Who is signed in (checked against the user's session generation on every page) and which workspace a page shows."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from ..api.service import service
from ..storage import users as users_store
from .blueprint import bp
from .security import new_csrf_token

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> dict[str, Any] | None:
    """The signed-in user, or None (no cookie, a deleted user, or a session ended by sign-out elsewhere)."""
    if "user" in g:
        found: dict[str, Any] | None = g.user
        return found
    user = None
    user_id, generation = session.get("uid"), session.get("gen")
    if isinstance(user_id, str) and isinstance(generation, int):
        with service().db.read() as conn:
            user = users_store.get_user(conn, user_id)
        if user is not None and user["session_generation"] != generation:
            user = None
        if user is None:
            session.clear()
    g.user = user
    return user


def sign_in(user: dict[str, Any]) -> None:
    """Start a session for `user` (a new cookie: nothing set before sign-in carries over)."""
    session.clear()
    session.permanent = True
    session["uid"], session["gen"] = user["id"], user["session_generation"]
    new_csrf_token()
    g.user = user


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only, never another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("dashboard.home")


def login_required(view: F) -> F:
    """Send a visitor who is not signed in to the sign-in page, then back here."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("dashboard.login", next=target))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def workspace_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page under /w/<workspace_id>/: 404 unless the signed-in user belongs to that workspace.

    The view gets the workspace row as its first argument; templates see it as `workspace`, and every
    workspace of the user as `workspaces` (the switcher).
    """

    @wraps(view)
    def wrapper(workspace_id: str, *args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")
                                    if request.method == "GET" else None))
        with service().db.read() as conn:
            workspace = users_store.member_workspace(conn, user["id"], workspace_id)
            if workspace is None:  # another workspace's page looks exactly like one that does not exist
                abort(404)
            g.workspaces = users_store.user_workspaces(conn, user["id"])
        g.workspace = workspace
        return view(workspace, *args, **kwargs)

    return wrapper


def redirect_to(endpoint: str, **values: Any) -> Response:
    """A 303 See Other to a dashboard page (after a POST the browser follows with a GET)."""
    return redirect(url_for(endpoint, **values), code=303)


@bp.context_processor
def _page_context() -> dict[str, Any]:
    """What every template may use: the page's workspace (None outside /w/...)."""
    return {"workspace": g.get("workspace")}
