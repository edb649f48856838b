"""/v1/accounts: list, connect (sandbox by handle, live by verified credentials), disconnect."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint

from .. import platforms
from ..errors import APIError, InvalidRequestError, NotFoundError, PlatformAuthError, PlatformError
from ..models import Account, AccountCreate
from ..storage import accounts as store
from ..storage.connect import publish_history
from ..storage.events import emit
from .account_health import health
from .auth import workspace
from .boundary import read_json
from .idempotency import idempotent
from .service import Service, service

bp = Blueprint("accounts", __name__, url_prefix="/v1/accounts")
HANDLE = re.compile(r"^[A-Za-z0-9_.@:-]{1,100}$")


def account_json(row: dict[str, Any]) -> dict[str, Any]:
    """A stored account as its public JSON (never credentials)."""
    return Account.model_validate(row).model_dump(mode="json")


@bp.get("")
def list_() -> dict[str, Any]:
    """Every connected account of the workspace, with its health."""
    svc = service()
    with svc.db.read() as conn:
        rows = store.list_accounts(conn, workspace()["id"])
        history = publish_history(conn, [r["id"] for r in rows])
    now = svc.clock()
    return {"data": [account_json(r | {"health": health(r, history[r["id"]], now, svc.vault)}) for r in rows],
            "has_more": False, "next_cursor": None}


def connect(svc: Service, ws: dict[str, Any], body: AccountCreate) -> dict[str, Any]:
    """Connect an account to the workspace (the rules of POST /v1/accounts, shared with the dashboard)."""
    if body.platform not in platforms.NAMES:
        raise InvalidRequestError(f"unknown platform {body.platform!r}; one of {', '.join(platforms.NAMES)}",
                                  param="platform")
    sandbox_workspace = ws["mode"] == "test"
    mode = body.mode or ("sandbox" if sandbox_workspace else "live")
    if sandbox_workspace != (mode == "sandbox"):
        raise InvalidRequestError(
            "pd_test_ keys connect sandbox accounts and pd_live_ keys live ones; use the other key", param="mode")
    if mode == "sandbox":
        if body.credentials:
            raise InvalidRequestError("credentials connect live accounts (pd_live_ keys); a sandbox account "
                                      "needs only a handle", param="credentials")
        handle = body.handle or f"{body.platform}_sandbox"
        if not HANDLE.match(handle):
            raise InvalidRequestError("handle may use letters, digits and _ . @ : -", param="handle")
        settings = {"faults": body.sandbox.model_dump()} if body.sandbox else {}
        sealed, display = None, body.display_name or handle
    else:
        if not body.credentials:
            raise InvalidRequestError(f"a live {body.platform} account needs credentials", param="credentials")
        if body.sandbox:
            raise InvalidRequestError("sandbox faults apply to sandbox accounts only", param="sandbox")
        adapter = platforms.get(body.platform)
        missing = [f for f in adapter.credential_fields if f not in body.credentials]
        if missing:
            raise InvalidRequestError(f"credentials need {', '.join(missing)}", param="credentials")
        try:
            profile = adapter.verify_credentials(body.credentials)
        except PlatformAuthError as exc:
            raise InvalidRequestError(f"{body.platform} refused these credentials: {exc.message}",
                                      code="invalid_credentials", param="credentials") from exc
        except PlatformError as exc:
            raise APIError(f"could not reach {body.platform} to check the credentials: {exc.message}",
                           code="platform_unavailable", status=503) from exc
        handle, display = profile.handle, body.display_name or profile.display_name or profile.handle
        sealed, settings = svc.vault.seal_json(body.credentials), {}
    with svc.db.write() as conn:
        row = store.create_account(conn, ws["id"], platform=body.platform, handle=handle, display_name=display,
                                   mode=mode, credentials=sealed, settings=settings)
    return row


def disconnect(svc: Service, workspace_id: str, account_id: str) -> dict[str, Any]:
    """Disconnect an account and emit account.disconnected; its waiting targets fail when they come due."""
    with svc.db.write() as conn:
        row = store.delete_account(conn, workspace_id, account_id)
        if row is not None:
            emit(conn, workspace_id, "account.disconnected", {
                "account_id": account_id, "platform": row["platform"], "handle": row["handle"],
                "reason": "deleted"}, now=svc.clock())
    if row is None:
        raise NotFoundError(f"no account {account_id}", param="id")
    return row


@bp.post("")
@idempotent
def create() -> tuple[dict[str, Any], int]:
    """Connect an account."""
    return account_json(connect(service(), workspace(), read_json(AccountCreate))), 201


@bp.delete("/<account_id>")
def delete(account_id: str) -> dict[str, Any]:
    """Disconnect an account; its waiting targets fail when they come due."""
    return account_json(disconnect(service(), workspace()["id"], account_id))
