"""The hosted pages of connect sessions (public): the credential form (Bluesky, Telegram) and the done page.

Each page carries a strict Content-Security-Policy, escapes everything it echoes (Jinja2 autoescape) and
the form a CSRF token bound to the session and to a cookie of this browser.
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, request
from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import platforms
from ..connect.flow import FORM_PATH
from ..connect.security import SESSION_SECONDS, StateError
from ..errors import InvalidRequestError
from .connect import connector

bp = Blueprint("connect_pages", __name__, url_prefix="/v1/connect")
CSRF_COOKIE = "postdodo_connect_csrf"
MAX_FIELD = 500


@cache
def _templates() -> Environment:
    return Environment(loader=PackageLoader("postdodo_connect.connect", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True))


def page(status: int, *, title: str, form_action_origin: str = "", **context: Any) -> Response:
    """One HTML page with the headers every connect page carries."""
    nonce = secrets.token_urlsafe(16)
    body = _templates().get_template("connect_page.html").render(title=title, nonce=nonce, **context)
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    form_action = f"'self' {form_action_origin}".strip()
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action {form_action}; base-uri 'none'; "
        "frame-ancestors 'none'")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _refused(error: InvalidRequestError) -> Response:
    return page(403 if error.code == "csrf_failed" else 400, title="This connect link cannot be used",
                error=error.message)


def _form(row: dict[str, Any], status: int, error: str = "", values: dict[str, str] | None = None) -> Response:
    cls = platforms.adapter_class(row["platform"])
    cookie = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    flow = connector()
    response = page(status, title=f"Connect {cls.label or row['platform']}", fields=cls.connect_form,
                    values=values or {}, error=error, action=FORM_PATH, state=request.values.get("state", ""),
                    csrf_token=flow.signer.csrf(row["id"], cookie), form_action_origin=_origin(row["redirect_url"]))
    response.set_cookie(CSRF_COOKIE, cookie, max_age=SESSION_SECONDS, path=FORM_PATH, httponly=True,
                        secure=request.is_secure, samesite="Strict")
    return response


@bp.get("/form")
def form() -> Response:
    """The credential form of a session (the session's `url`)."""
    try:
        row = connector().open_state(request.args.get("state"))
    except StateError as exc:
        return _refused(exc)
    if platforms.adapter_class(row["platform"]).connect_form == ():
        return page(400, title="This connect link cannot be used", error="this platform has no form")
    return _form(row, 200)


@bp.post("/form")
def submit() -> WerkzeugResponse:
    """Check the credentials with the platform; on success the browser goes on to the caller's redirect_url."""
    flow = connector()
    try:
        row = flow.open_state(request.form.get("state"))
        fields = platforms.adapter_class(row["platform"]).connect_form
        if not fields:
            raise InvalidRequestError("this platform has no form")
        if not flow.signer.csrf_ok(request.form.get("csrf_token", ""), row["id"], request.cookies.get(CSRF_COOKIE)):
            raise InvalidRequestError("the form expired or was not sent from this page; open the link again",
                                      code="csrf_failed")
    except InvalidRequestError as exc:
        return _refused(exc)
    values = {f.name: request.form.get(f.name, "").strip() for f in fields}
    shown = {f.name: values[f.name] for f in fields if not f.secret}
    empty = [f.label for f in fields if not values[f.name]]
    if empty or any(len(v) > MAX_FIELD or not v.isprintable() for v in values.values()):
        message = f"{empty[0]} is required" if empty else f"each field takes at most {MAX_FIELD} printable characters"
        return _form(row, 400, message, shown)
    try:
        target = flow.submit_form(row, values)
    except StateError as exc:
        return _refused(exc)
    except InvalidRequestError as exc:
        return _form(row, 400, exc.message, shown)
    return redirect(target, code=303)


@bp.get("/done")
def done() -> Response:
    """Where a session ends when the caller has no page of its own (the CLI): what happened, nothing more."""
    error, message = request.args.get("error", "")[:100], request.args.get("message", "")[:500]
    if error:
        return page(200, title="The account was not connected", error=message or error)
    return page(200, title="Account connected", message="You can close this window and go back to PostDodo.")
