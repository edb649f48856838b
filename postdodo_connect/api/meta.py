"""Unauthenticated routes: /healthz and /v1/openapi.json (and /metrics, from api.metrics)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from . import health
from .openapi import document
from .service import service

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """Each dependency with its own status; 503 when one this process needs is failing."""
    return health.report(service(), current_app.extensions.get("postdodo.ops_redis"))


@bp.get("/v1/openapi.json")
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API."""
    return document()
