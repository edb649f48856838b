"""Bearer-key authentication for /v1: the key's workspace becomes `g.workspace`."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request

from ..errors import AuthenticationError
from ..storage import keys
from .service import service

PUBLIC_PATHS = frozenset({"/v1/openapi.json"})


def bearer_key() -> str | None:
    """The key of the Authorization header, if it has one."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


def workspace() -> dict[str, Any]:
    """The authenticated workspace of this request."""
    ws: dict[str, Any] = g.workspace
    return ws


def init_app(app: Flask) -> None:
    """Require a valid key on every /v1 route but the public ones."""

    @app.before_request
    def _authenticate() -> None:
        if not request.path.startswith("/v1/") or request.path in PUBLIC_PATHS:
            return
        key = bearer_key()
        if key is None:
            raise AuthenticationError("missing API key: send Authorization: Bearer pd_live_...")
        with service().db.read() as conn:
            found = keys.authenticate(conn, key)
        if found is None:
            raise AuthenticationError("invalid API key (revoked, rotated or mistyped)")
        g.workspace = found
