"""Accounts: the workspace's accounts (platform, handle, status), "Connect an account", sandbox accounts, disconnect."""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import flash, redirect, render_template, request, url_for

from .. import platforms
from ..api import accounts as accounts_service
from ..api.connect import connector
from ..api.service import service
from ..errors import APIError
from ..models import AccountCreate, ConnectCreate
from ..storage import accounts as accounts_store
from .blueprint import bp
from .forms import parse, refused, text
from .session import redirect_to, workspace_page


class ConnectOption(NamedTuple):
    """One platform of the "Connect an account" section."""

    platform: str
    label: str
    #: where its connect form posts; None: not connectable by link (not configured, or credentials only)
    url: str | None
    #: the options its connect session asks for (Mastodon: the instance)
    fields: tuple[str, ...] = ()


def connect_options(workspace: dict[str, Any]) -> list[ConnectOption]:
    """The platforms a user may connect here: each configured one starts a connect session (OAuth or hosted form)."""
    flow = connector()
    return [ConnectOption(name, platforms.adapter_class(name).label or name.title(),
                          url_for("dashboard.accounts_connect", workspace_id=workspace["id"], platform=name)
                          if workspace["mode"] == "live" and flow.configured(name) else None,
                          ("instance_url",) if name == "mastodon" else ())
            for name in platforms.NAMES]


@bp.get("/w/<workspace_id>/accounts")
@workspace_page
def accounts(workspace: dict[str, Any]) -> Any:
    """The accounts page."""
    with service().db.read() as conn:
        rows = accounts_store.list_accounts(conn, workspace["id"])
    # back from a connect session: what it did, in the words the session ended with
    if request.args.get("error"):
        flash(f"Not connected: {request.args.get('message') or request.args['error']}", "error")
    elif request.args.get("account_id"):
        flash("Account connected.")
    session = None
    if request.args.get("status") == "needs_selection" and request.args.get("session"):
        try:
            session = connector().get(workspace["id"], request.args["session"])
        except APIError:
            session = None  # another workspace's session id, or gone: the page simply has no picker
    return render_template("accounts/index.html", accounts=rows, options=connect_options(workspace),
                           picker=session if session and session["status"] == "needs_selection" else None)


@bp.post("/w/<workspace_id>/accounts/connect/<platform>")
@workspace_page
def accounts_connect(workspace: dict[str, Any], platform: str) -> Any:
    """Start a connect session (or, with account_id, a reconnect) and send the browser to its consent page."""
    flow = connector()
    # back to this page on the connect flow's own origin, which it always allows as a redirect
    back = flow.base_url + url_for("dashboard.accounts", workspace_id=workspace["id"])
    options = {"instance_url": value} if (value := text("instance_url")) else None
    try:
        body = parse(ConnectCreate, {"platform": platform, "redirect_url": back, "account_id": text("account_id"),
                                     "options": options})
        _, url = flow.start(workspace, body)
    except APIError as exc:
        return refused(exc, "dashboard.accounts", workspace_id=workspace["id"])
    return redirect(url, code=303)


@bp.post("/w/<workspace_id>/accounts/connect-session/<session_id>")
@workspace_page
def accounts_pick(workspace: dict[str, Any], session_id: str) -> Any:
    """The picker's answer: create an account for each Page, board or channel ticked."""
    try:
        connector().select(workspace["id"], session_id, request.form.getlist("option_ids"))
    except APIError as exc:
        return refused(exc, "dashboard.accounts", workspace_id=workspace["id"])
    flash("Accounts connected.")
    return redirect_to("dashboard.accounts", workspace_id=workspace["id"])


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
