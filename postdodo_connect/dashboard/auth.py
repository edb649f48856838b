"""Sign in (throttled per user and per address), sign out, the first-run link, and changing one's password."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, redirect, render_template, request, session
from werkzeug.wrappers import Response

from ..api.limits import WINDOW, Limiter, build
from ..api.service import service
from ..config import Settings
from ..errors import APIError, RateLimitError
from ..storage import keys as keys_store
from ..storage import users as users_store
from .blueprint import bp
from .session import current_user, login_required, redirect_to, safe_next, sign_in

SETUP = "setup"


def init_app(app: Flask, settings: Settings) -> None:
    """The sign-in limiter: in Redis when the service has one (shared by every worker), else per process."""
    # attempts, failed or not: enough for typos, far too few to guess a password
    app.extensions["postdodo.login_limiter"] = build(("POSTDODO_LOGIN_RATE_LIMIT", settings.login_rate_limit),
                                                     ("POSTDODO_LOGIN_RATE_LIMIT_ADDRESS",
                                                      settings.login_rate_limit_address), settings.redis_url)


def _throttle(email: str) -> None:
    limiter: Limiter = current_app.extensions["postdodo.login_limiter"]
    try:
        # prefixed identities: these windows never share a counter with the API's per-key/per-address ones
        limiter.hit_address("login:" + (request.remote_addr or "?"))
        limiter.hit_key("login:" + email.strip().lower()[:254])
    finally:
        request.environ.pop(WINDOW, None)  # the API's RateLimit-* headers describe /v1 only


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in form; on success, on to `next` (a path of this site) or the first workspace."""
    target = request.values.get("next")
    if request.method == "GET":
        if current_user() is not None:
            return redirect_to("dashboard.home")
        with service().db.read() as conn:
            first_run = users_store.count_users(conn) == 0
        return render_template("auth/login.html", next=target, email="", first_run=first_run)
    email, password = request.form.get("email", ""), request.form.get("password", "")
    try:
        _throttle(email)
    except RateLimitError as exc:
        return render_template("auth/login.html", next=target, email=email,
                               error=f"Too many sign-in attempts. Try again in {exc.headers['Retry-After']} seconds."), 429
    with service().db.read() as conn:
        user = users_store.authenticate(conn, email, password)
    if user is None:
        return render_template("auth/login.html", next=target, email=email,
                               error="Wrong email address or password."), 401
    sign_in(user)
    return redirect(safe_next(target), code=303)


@bp.post("/logout")
def logout() -> Response:
    """Sign out: ends this user's sessions everywhere (an old copy of the cookie stops working too)."""
    user = current_user()
    if user is not None:
        with service().db.write() as conn:
            users_store.end_sessions(conn, user["id"])
    session.clear()
    return redirect_to("dashboard.login")


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Any:
    """The first-run link `postdodo serve` prints on a database without users: the first person signs up here."""
    token = request.values.get("token", "")
    svc = service()
    with svc.db.read() as conn:
        valid = bool(token) and users_store.peek_signin_token(conn, token, SETUP) is not None \
            and users_store.count_users(conn) == 0
    if not valid:
        return render_template("auth/setup_gone.html"), 410
    if request.method == "GET":
        return render_template("auth/setup.html", token=token, email="")
    email, password = request.form.get("email", ""), request.form.get("password", "")
    if password != request.form.get("confirm", ""):
        return render_template("auth/setup.html", token=token, email=email,
                               error="The two passwords differ."), 400
    try:
        with svc.db.write() as conn:
            if users_store.use_signin_token(conn, token, SETUP) is None or users_store.count_users(conn):
                return render_template("auth/setup_gone.html"), 410
            user = users_store.create_user(conn, email, password)
            if not users_store.join_all_workspaces(conn, user["id"], "owner"):
                workspace = keys_store.create_workspace(conn, "main", test=False)
                users_store.add_membership(conn, user["id"], workspace["id"], "owner")
    except APIError as exc:  # the address or password broke a rule: nothing was stored
        return render_template("auth/setup.html", token=token, email=email, error=exc.message), exc.status
    sign_in(user)
    return redirect_to("dashboard.home")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """Change one's password: every other session of this user ends."""
    user = current_user()
    assert user is not None
    if request.method == "GET":
        return render_template("auth/password.html")
    current, new = request.form.get("current", ""), request.form.get("password", "")
    if new != request.form.get("confirm", ""):
        return render_template("auth/password.html", error="The two new passwords differ."), 400
    svc = service()
    try:
        _throttle(user["email"])  # a borrowed session must not become a way to guess the password
    except RateLimitError as exc:
        return render_template("auth/password.html", error=f"Too many attempts. Try again in "
                               f"{exc.headers['Retry-After']} seconds."), 429
    with svc.db.read() as conn:
        if users_store.authenticate(conn, user["email"], current) is None:
            return render_template("auth/password.html", error="The current password is wrong."), 400
    try:
        with svc.db.write() as conn:
            users_store.set_password(conn, user["id"], new)
            fresh = users_store.get_user(conn, user["id"])
    except APIError as exc:
        return render_template("auth/password.html", error=exc.message), exc.status
    assert fresh is not None
    sign_in(fresh)  # this browser stays signed in under the new generation
    return render_template("auth/password.html", done=True)
