"""Accounts: the workspace's accounts (platform, handle, status), "Connect an account", sandbox accounts, disconnect."""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import flash, render_template

from .. import platforms
from ..api import accounts as accounts_service
from ..api.service import service
from ..errors import APIError
from ..models import AccountCreate
from ..storage import accounts as accounts_store
from .blueprint import bp
from .forms import parse, refused, text
from .session import redirect_to, workspace_page


class ConnectOption(NamedTuple):
    """One platform of the "Connect an account" section."""

    platform: str
    label: str
    #: where its connect button leads; None: not connectable from the dashboard yet
    url: str | None


def connect_options(workspace: dict[str, Any]) -> list[ConnectOption]:
    """The platforms a user may connect here, and where each one's connect flow starts.

    The one place to wire connect sessions (`POST /v1/connect`, hosted OAuth and credential forms) into the
    dashboard: give each platform the URL of its flow. Until then live accounts connect through the API.
    """
    return [ConnectOption(name, platforms.adapter_class(name).label or name.title(), None)
            for name in platforms.NAMES]


@bp.get("/w/<workspace_id>/accounts")
@workspace_page
def accounts(workspace: dict[str, Any]) -> Any:
    """The accounts page."""
    with service().db.read() as conn:
        rows = accounts_store.list_accounts(conn, workspace["id"])
    return render_template("accounts/index.html", accounts=rows, options=connect_options(workspace))


@bp.post("/w/<workspace_id>/accounts/sandbox")
@workspace_page
def accounts_add_sandbox(workspace: dict[str, Any]) -> Any:
    """Add a sandbox account (test workspaces) by the same rules as POST /v1/accounts."""
    try:
        body = parse(AccountCreate, {"platform": text("platform") or "", "mode": "sandbox", "handle": text("handle"),
                                     "display_name": text("display_name")})
        row = accounts_service.connect(service(), workspace, body)
    except APIError as exc:
        return refused(exc, "dashboard.accounts", workspace_id=workspace["id"])
    flash(f"Sandbox {row['platform']} account {row['handle']} added.")
    return redirect_to("dashboard.accounts", workspace_id=workspace["id"])


@bp.post("/w/<workspace_id>/accounts/<account_id>/disconnect")
@workspace_page
def accounts_disconnect(workspace: dict[str, Any], account_id: str) -> Any:
    """Disconnect an account (its waiting targets fail when they come due)."""
    try:
        row = accounts_service.disconnect(service(), workspace["id"], account_id)
    except APIError as exc:
        return refused(exc, "dashboard.accounts", workspace_id=workspace["id"])
    flash(f"{row['platform']} account {row['handle']} disconnected.")
    return redirect_to("dashboard.accounts", workspace_id=workspace["id"])
