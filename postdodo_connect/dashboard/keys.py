"""Settings → API: the workspace's keys (created and rotated keys shown once), rotate, revoke."""

from __future__ import annotations

from typing import Any

from flask import render_template

from ..api.service import service
from ..storage import keys as keys_store
from .blueprint import bp
from .session import workspace_page


@bp.get("/w/<workspace_id>/settings/api")
@workspace_page
def api_keys(workspace: dict[str, Any]) -> Any:
    """Every key of the workspace, live ones first."""
    with service().db.read() as conn:
        rows = keys_store.list_keys(conn, workspace["id"])
    rows.sort(key=lambda r: (r["revoked_at"] is not None, r["created_at"]))
    return render_template("keys/index.html", keys=rows)
