"""Webhooks: endpoints (secret shown once), enable/disable, rotate, test event, the delivery log, redeliver."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request

from ..api import webhooks as webhooks_service
from ..api.service import service
from ..errors import APIError
from ..models import EVENT_TYPES, WebhookCreate
from ..storage import webhooks as webhooks_store
from .blueprint import bp
from .forms import parse, refused, text
from .session import redirect_to, workspace_page

PAGE = 20  # deliveries per page of the log
EXCERPT = 300  # characters of a receiver's answer shown in the log


@bp.get("/w/<workspace_id>/webhooks")
@workspace_page
def webhooks(workspace: dict[str, Any]) -> Any:
    """The webhook endpoints of the workspace and the form to add one."""
    with service().db.read() as conn:
        rows = webhooks_store.list_endpoints(conn, workspace["id"])
    return render_template("webhooks/index.html", endpoints=rows, event_types=EVENT_TYPES)


@bp.post("/w/<workspace_id>/webhooks")
@workspace_page
def webhooks_create(workspace: dict[str, Any]) -> Any:
    """Register an endpoint by the API's rules (event types, SSRF guard, limit); its secret is shown once."""
    try:
        body = parse(WebhookCreate, {"url": text("url") or "", "events": request.form.getlist("events") or None,
                                     "description": text("description")})
        row, secret = webhooks_service.register(service(), workspace["id"], body)
    except APIError as exc:
        return refused(exc, "dashboard.webhooks", workspace_id=workspace["id"])
    return _endpoint_page(workspace, row, secret=secret, status=201)


def _endpoint_page(workspace: dict[str, Any], endpoint: dict[str, Any], *, secret: str | None = None,
                   status: int = 200) -> Any:
    rows, next_cursor = webhooks_service.deliveries_page(service(), workspace["id"], endpoint["id"], PAGE,
                                                         cursor=request.args.get("cursor") or None)
    for row in rows:
        last = row["log"][-1] if row["log"] else None
        row["last"] = last
        body = (last or {}).get("response_body") or (last or {}).get("error") or ""
        row["excerpt"] = body[:EXCERPT] + ("…" if len(body) > EXCERPT else "")
    return render_template("webhooks/endpoint.html", endpoint=endpoint, deliveries=rows, next_cursor=next_cursor,
                           secret=secret), status


@bp.get("/w/<workspace_id>/webhooks/<endpoint_id>")
@workspace_page
def webhooks_endpoint(workspace: dict[str, Any], endpoint_id: str) -> Any:
    """One endpoint: its settings, actions and delivery log (newest first, paged)."""
    try:
        endpoint = webhooks_service.endpoint_or_404(service(), workspace["id"], endpoint_id)
        return _endpoint_page(workspace, endpoint)
    except APIError as exc:
        return refused(exc, "dashboard.webhooks", workspace_id=workspace["id"])


@bp.post("/w/<workspace_id>/webhooks/<endpoint_id>/<action>")
@workspace_page
def webhooks_action(workspace: dict[str, Any], endpoint_id: str, action: str) -> Any:
    """enable, disable, test, rotate or delete an endpoint through the API's service functions."""
    svc, here = service(), {"workspace_id": workspace["id"], "endpoint_id": endpoint_id}
    try:
        if action == "enable":
            webhooks_service.enable(svc, workspace["id"], endpoint_id)
            flash("Endpoint enabled: new events will be delivered to it.")
        elif action == "disable":
            webhooks_service.disable(svc, workspace["id"], endpoint_id)
            flash("Endpoint disabled: nothing is sent to it until you enable it again.")
        elif action == "test":
            event, _ = webhooks_service.send_test(svc, workspace["id"], endpoint_id)
            flash(f"Test event {event['id']} sent. Reload to see the delivery in the log below.")
        elif action == "delete":
            row = webhooks_service.remove(svc, workspace["id"], endpoint_id)
            flash(f"Endpoint {row['url']} deleted: nothing more is sent to it.")
            return redirect_to("dashboard.webhooks", workspace_id=workspace["id"])
        elif action == "rotate":
            row, secret = webhooks_service.rotate_secret(svc, workspace["id"], endpoint_id,
                                                         expire_now=request.form.get("expire_now") == "yes")
            return _endpoint_page(workspace, row, secret=secret)
        else:
            return refused(APIError("no such action", status=404), "dashboard.webhooks")
    except APIError as exc:
        return refused(exc, "dashboard.webhooks_endpoint", **here)
    return redirect_to("dashboard.webhooks_endpoint", **here)


@bp.post("/w/<workspace_id>/webhooks/<endpoint_id>/events/<event_id>/redeliver")
@workspace_page
def webhooks_redeliver(workspace: dict[str, Any], endpoint_id: str, event_id: str) -> Any:
    """Send one event to this endpoint again (same event id, new attempts)."""
    here = {"workspace_id": workspace["id"], "endpoint_id": endpoint_id}
    try:
        webhooks_service.endpoint_or_404(service(), workspace["id"], endpoint_id)
        webhooks_service.redeliver(service(), workspace["id"], event_id, endpoint_id)
    except APIError as exc:
        return refused(exc, "dashboard.webhooks_endpoint", **here)
    flash(f"Event {event_id} queued for redelivery.")
    return redirect_to("dashboard.webhooks_endpoint", **here)
