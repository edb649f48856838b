"""Bearer-key authentication for /v1: the key's workspace becomes `g.workspace`, after the rate limits allow it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, g, request
from sqlalchemy.exc import SQLAlchemyError

from ..errors import AuthenticationError
from ..storage import keys
from .limits import Limiter
from .service import Service

# the connect pages and callback are where browsers land: bound to a session by its signed state, not a key
PUBLIC_PATHS = frozenset({"/v1/openapi.json", "/v1/connect/callback", "/v1/connect/form", "/v1/connect/done"})
TOUCH_EVERY = timedelta(minutes=1)
log = logging.getLogger("postdodo.api")
_last_noted: dict[str, datetime] = {}  # key id -> when this process last wrote its last_used_at


def bearer_key(environ: Mapping[str, Any]) -> str | None:
    """The key of a request's Authorization header, if it has one."""
    header = environ.get("HTTP_AUTHORIZATION", "")  # the header, without Headers' name lookup
    scheme, _, key = header.partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


def workspace() -> dict[str, Any]:
    """The authenticated workspace of this request."""
    ws: dict[str, Any] = g.workspace
    return ws


def init_app(app: Flask) -> None:
    """Require a valid key on every /v1 route but the public ones; count each request against its limit."""

    @app.before_request
    def _authenticate() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one context lookup, not one per field
        path = req.path
        if not path.startswith("/v1/"):
            return
        # set up after this hook: read from `app` (not the current_app proxy) on each request
        limiter: Limiter = app.extensions["postdodo.limiter"]
        svc: Service = app.extensions["postdodo"]
        address = req.remote_addr or "?"
        if path in PUBLIC_PATHS:
            limiter.hit_address(address)
            return
        # before the lookup: a flood of wrong keys from one address costs no hash or read past its limit
        limiter.check_blocked(address)
        key = bearer_key(req.environ)
        found = None
        if key is not None:
            with svc.db.lean_read(single=True) as conn:
                found = keys.authenticate(conn, key)
        if found is None:
            limiter.hit_address(address)
            if key is None:
                raise AuthenticationError("missing API key: send Authorization: Bearer pd_live_...")
            raise AuthenticationError("invalid API key (revoked, rotated or mistyped)")
        limiter.hit_key(found["key_id"])
        g.workspace = found
        note_use(svc, found["key_id"])


def note_use(svc: Service, key_id: str) -> None:
    """Keep the key's "last used" (Settings → API) current to the minute: one write per key a minute at most."""
    now = svc.clock()
    last = _last_noted.get(key_id)
    if last is not None and abs(now - last) < TOUCH_EVERY:
        return
    if len(_last_noted) > 100_000:  # keys seen by this process; forget them rather than grow for ever
        _last_noted.clear()
    _last_noted[key_id] = now
    try:
        with svc.db.write() as conn:
            keys.touch_key(conn, key_id, now, every=TOUCH_EVERY)
    except SQLAlchemyError as exc:  # a busy database must not fail the request it serves
        log.warning("could not record the use of key %s: %s", key_id, type(exc).__name__)
