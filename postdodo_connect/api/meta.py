"""Unauthenticated routes: /healthz and /v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from ..errors import APIError
from .openapi import document
from .service import service

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    """Alive, and the database answers."""
    try:
        with service().db.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise APIError("database unreachable", code="unavailable", status=503) from exc
    return {"status": "ok"}


@bp.get("/v1/openapi.json")
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API."""
    return document()
