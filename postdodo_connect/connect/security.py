"""The connect flow's tamper-proof parts: the signed state, the form's CSRF token, PKCE, allowed redirects."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import InvalidRequestError

#: a session (and its state) lives this long
SESSION_SECONDS = 600


class StateError(InvalidRequestError):
    """A callback's or form's state that must not be honoured (tampered, foreign, expired, replayed)."""


class Signer:
    """Signs and checks the state (bound to one session) and the hosted form's CSRF token."""

    def __init__(self, secret_key: str) -> None:
        self._state = URLSafeTimedSerializer(secret_key, salt="postdodo.connect.state")
        self._csrf = URLSafeTimedSerializer(secret_key, salt="postdodo.connect.csrf")

    def state(self, session_id: str, nonce: str) -> str:
        """The `state` of a session: its id and nonce, signed and timed."""
        return str(self._state.dumps([session_id, nonce]))

    def read_state(self, token: str, max_age: int = SESSION_SECONDS) -> tuple[str, str, bool]:
        """(session id, nonce, expired) of a state we signed; StateError for anything else."""
        try:
            value, expired = self._state.loads(token, max_age=max_age), False
        except SignatureExpired as exc:
            # the signature is ours, only old: the session it names can be told it expired
            if exc.payload is None:
                raise StateError("state is invalid", code="invalid_state", param="state") from None
            value, expired = self._state.load_payload(exc.payload), True
        except BadSignature:
            raise StateError("state is invalid or was tampered with", code="invalid_state", param="state") from None
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
            raise StateError("state is invalid", code="invalid_state", param="state")
        return value[0], value[1], expired

    def csrf(self, session_id: str, cookie: str) -> str:
        """The form's hidden CSRF field: the session and the cookie's random value, signed."""
        return str(self._csrf.dumps([session_id, cookie]))

    def csrf_ok(self, token: str, session_id: str, cookie: str | None) -> bool:
        """True when the field was made for this session and matches the browser's cookie."""
        if not cookie:
            return False
        try:
            value = self._csrf.loads(token, max_age=SESSION_SECONDS)
        except BadSignature:
            return False
        return bool(value == [session_id, cookie] and secrets.compare_digest(value[1], cookie))


def new_nonce() -> str:
    """128 bits of randomness, URL-safe."""
    return secrets.token_urlsafe(16)


def new_verifier() -> str:
    """A PKCE code verifier: 64 characters of the unreserved set (RFC 7636 §4.1 allows 43-128)."""
    return secrets.token_urlsafe(48)


def allowed_redirect(url: str, prefixes: list[str]) -> bool:
    """True when `url` is an http(s) URL under one of `prefixes` (same scheme and host, path below)."""
    if any(ch <= " " or ch in "\\\x7f" for ch in url) or len(url) > 2000:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username is not None \
            or parts.password is not None or parts.fragment:
        return False
    for prefix in prefixes:
        allowed = urlsplit(prefix)
        if (allowed.scheme.lower(), allowed.hostname, allowed.port) != (parts.scheme.lower(), parts.hostname, port):
            continue
        base = allowed.path.rstrip("/")
        # a path boundary, so "/app" never admits "/application" nor "https://host.evil" a "https://host"
        if not base or parts.path == base or parts.path.startswith(base + "/"):
            return True
    return False
