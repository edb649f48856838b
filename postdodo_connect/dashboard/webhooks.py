"""Webhooks: endpoints (secret shown once), enable/disable, rotate, test event, delivery log, redeliver."""

from __future__ import annotations

from typing import Any

from flask import render_template

from ..api.service import service
from ..storage import webhooks as webhooks_store
from .blueprint import bp
from .session import workspace_page


@bp.get("/w/<workspace_id>/webhooks")
@workspace_page
def webhooks(workspace: dict[str, Any]) -> Any:
    """The webhook endpoints of the workspace."""
    with service().db.read() as conn:
        rows = webhooks_store.list_endpoints(conn, workspace["id"])
    return render_template("webhooks/index.html", endpoints=rows)
