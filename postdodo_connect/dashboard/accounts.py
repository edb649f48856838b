"""Accounts: the workspace's connected accounts (platform, handle, status), sandbox accounts, disconnect."""

from __future__ import annotations

from typing import Any

from flask import render_template

from ..api.service import service
from ..storage import accounts as accounts_store
from .blueprint import bp
from .session import workspace_page


@bp.get("/w/<workspace_id>/accounts")
@workspace_page
def accounts(workspace: dict[str, Any]) -> Any:
    """The accounts page."""
    with service().db.read() as conn:
        rows = accounts_store.list_accounts(conn, workspace["id"])
    return render_template("accounts/index.html", accounts=rows)
