"""Settings → API: the workspace's keys (a new or rotated key is shown once), rotate, revoke."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, render_template, request

from ..api.service import service
from ..storage import keys as keys_store
from .blueprint import bp
from .session import redirect_to, workspace_page


def _page(workspace: dict[str, Any], *, new_key: str | None = None, replaced: str | None = None,
          error: str | None = None, status: int = 200) -> Any:
    with service().db.read() as conn:
        rows = keys_store.list_keys(conn, workspace["id"])
    rows.sort(key=lambda r: (r["revoked_at"] is not None, r["created_at"]))
    return render_template("keys/index.html", keys=rows, new_key=new_key, replaced=replaced, error=error), status


@bp.get("/w/<workspace_id>/settings/api")
@workspace_page
def api_keys(workspace: dict[str, Any]) -> Any:
    """Every key of the workspace, active ones first."""
    return _page(workspace)


@bp.post("/w/<workspace_id>/settings/api/keys")
@workspace_page
def api_keys_create(workspace: dict[str, Any]) -> Any:
    """A new key, shown on this answer only (never stored in the cookie or anywhere readable)."""
    with service().db.write() as conn:
        _, key = keys_store.create_key(conn, workspace)
    return _page(workspace, new_key=key, status=201)


@bp.post("/w/<workspace_id>/settings/api/keys/<key_id>/rotate")
@workspace_page
def api_keys_rotate(workspace: dict[str, Any], key_id: str) -> Any:
    """Replace a key: the old one stops at once, so the form makes the user say they know that."""
    if request.form.get("understood") != "yes":
        return _page(workspace, error="Tick the box to confirm: the old key stops working as soon as you rotate it.",
                     status=400)
    with service().db.write() as conn:
        old = next((k for k in keys_store.list_keys(conn, workspace["id"]) if k["id"] == key_id), None)
        result = keys_store.rotate_key(conn, key_id, workspace["id"])
    if result is None or old is None:
        abort(404)  # not a live key of this workspace
    return _page(workspace, new_key=result[1], replaced=old["hint"], status=201)


@bp.post("/w/<workspace_id>/settings/api/keys/<key_id>/revoke")
@workspace_page
def api_keys_revoke(workspace: dict[str, Any], key_id: str) -> Any:
    """Stop a key at once."""
    with service().db.write() as conn:
        row = keys_store.revoke_key(conn, key_id, workspace["id"])
    if row is None:
        abort(404)
    flash(f"Key {row['hint']} is revoked: requests with it now get 401.")
    return redirect_to("dashboard.api_keys", workspace_id=workspace["id"])
