"""The dashboard's defences: the signed session cookie, CSRF tokens, and the security headers of every page."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import Flask, Request, Response, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import BadRequest

from ..config import Settings
from .blueprint import bp

SESSION_LIFETIME = timedelta(days=14)
API_PREFIX = "/v1/"  # the API's paths: authenticated by key (or a connect page's own cookie), never by session
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# no inline script or style anywhere: every script and stylesheet is a file of static/
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # the first-run link carries its token in the query: it must never leave for another site in a Referer
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class CSRFError(BadRequest):
    """A state-changing request without this session's CSRF token."""

    description = "This form has expired or did not come from this dashboard. Go back, reload the page and try again."


def is_https() -> bool:
    """True when the browser talks https to us, directly or through a proxy that says so."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.is_secure or forwarded == "https"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, marked Secure whenever the request came over https.

    An API request carries no session cookie: it gets an empty session without a signer being built, which
    Flask would otherwise do for every request (a measurable share of a create-post's CPU).
    """

    salt = "postdodo.dashboard.session"

    def __init__(self) -> None:
        self._signers: dict[str | bytes | None, URLSafeTimedSerializer | None] = {}

    def get_cookie_secure(self, app: Flask) -> bool:
        return is_https()

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, made once per secret key instead of once per request."""
        if app.secret_key not in self._signers:
            self._signers[app.secret_key] = super().get_signing_serializer(app)
        return self._signers[app.secret_key]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)  # the API never uses it; a null session is not saved either
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def csrf_token() -> str:
    """This session's CSRF token (made on first use); forms carry it as `csrf_token`, fetches as X-CSRF-Token."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def new_csrf_token() -> None:
    """A fresh token (at sign-in: a token planted before sign-in must not survive it)."""
    session["csrf"] = secrets.token_urlsafe(32)


@bp.before_request
def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get("csrf")
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CSRFError()


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    if request.endpoint != "dashboard.static":
        # pages may show a key or secret once: never kept by the browser or a proxy
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """The app's session cookie: signed with a key derived from the service's secret key."""
    secret = settings.secret_key or secrets.token_hex(32)  # no key configured: sessions last one process
    app.secret_key = hmac.new(secret.encode(), b"postdodo.dashboard.session", hashlib.sha256).hexdigest()
    app.session_interface = SessionInterface()
    app.config.update(SESSION_COOKIE_NAME="postdodo_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME)
    app.jinja_env.globals["csrf_token"] = csrf_token
