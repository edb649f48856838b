"""/v1/webhooks: endpoints (secret shown once), rotation, test events, the delivery log, redelivery.

The rules live in the plain functions at the top (register, remove, rotate_secret, enable, disable, send_test,
redeliver, deliveries_page); the views below and the dashboard's webhook pages both call them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, request

from .. import netguard, signing
from ..errors import ConflictError, InvalidRequestError, NotFoundError, UnsafeURLError
from ..models import EVENT_TYPES, Delivery, Redelivery, WebhookCreate, WebhookEndpoint, WebhookRotate, WebhookTest
from ..storage import events as events_store
from ..storage import webhooks as store
from .auth import workspace
from .boundary import known_args, limit_param, read_json
from .idempotency import idempotent
from .service import Service, service, time_and_id

bp = Blueprint("webhooks", __name__, url_prefix="/v1")
ROTATION_OVERLAP = timedelta(hours=24)
MAX_ENDPOINTS = 20
TEST_EVENT = "webhook.test"
DELIVERY_STATUSES = ("pending", "delivering", "delivered", "failed", "canceled")
DISABLED_BY_USER = "disabled from the dashboard"


def endpoint_json(row: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
    """A stored endpoint as its public JSON; the secret only when just made."""
    data = WebhookEndpoint.model_validate(row | {"secret": secret}).model_dump(mode="json")
    if secret is None:
        data.pop("secret")
    return data


def url_policy() -> netguard.URLPolicy:
    """The SSRF policy of this deployment."""
    settings = service().settings
    return netguard.URLPolicy(allow_private=settings.webhook_allow_private,
                              allowed_hosts=frozenset(settings.webhook_allowed_hosts))


def resolver() -> netguard.Resolver | None:
    """The host name resolver of the registration check (app config WEBHOOK_RESOLVER; tests inject one)."""
    found: netguard.Resolver | None = current_app.config.get("WEBHOOK_RESOLVER")
    return found


def endpoint_or_404(svc: Service, workspace_id: str, endpoint_id: str) -> dict[str, Any]:
    """One endpoint of the workspace; 404 for an unknown one or another workspace's."""
    with svc.db.read() as conn:
        row = store.get_endpoint(conn, workspace_id, endpoint_id)
    if row is None:
        raise NotFoundError(f"no webhook endpoint {endpoint_id}", param="id")
    return row


def register(svc: Service, workspace_id: str, body: WebhookCreate) -> tuple[dict[str, Any], str]:
    """Store a new endpoint after the event-type and SSRF checks: (its row, the whsec_ secret shown once)."""
    unknown = sorted(set(body.events or ()) - set(EVENT_TYPES))
    if unknown:
        raise InvalidRequestError(f"unknown event types: {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}",
                                  param="events")
    try:
        netguard.check_url(body.url, url_policy(), resolver())
    except UnsafeURLError as exc:
        raise InvalidRequestError(str(exc), param="url", code="url_not_allowed") from exc
    secret = signing.generate_secret()
    with svc.db.write() as conn:
        if store.count_endpoints(conn, workspace_id) >= MAX_ENDPOINTS:
            raise ConflictError(f"a workspace may have at most {MAX_ENDPOINTS} webhook endpoints")
        row = store.create_endpoint(conn, workspace_id, url=body.url, events_=sorted(set(body.events or ())),
                                    description=body.description, sealed_secret=svc.vault.seal(secret),
                                    now=svc.clock())
    return row, secret


def remove(svc: Service, workspace_id: str, endpoint_id: str) -> dict[str, Any]:
    """Delete an endpoint; its pending deliveries stop. Returns it as it was, marked deleted."""
    row = endpoint_or_404(svc, workspace_id, endpoint_id)
    with svc.db.write() as conn:
        store.delete_endpoint(conn, workspace_id, endpoint_id, svc.clock())
    return row | {"status": "disabled", "disabled_reason": "deleted"}


def rotate_secret(svc: Service, workspace_id: str, endpoint_id: str, *, expire_now: bool) -> tuple[dict[str, Any], str]:
    """A new secret; the old one keeps signing alongside for 24 h unless `expire_now`: (row, new secret)."""
    row = endpoint_or_404(svc, workspace_id, endpoint_id)
    now, secret = svc.clock(), signing.generate_secret()
    with svc.db.write() as conn:
        current = store.load_endpoint(conn, endpoint_id)
        assert current is not None
        # only the secret being replaced overlaps; an older one still in its window stops now
        previous = None if expire_now else current["secret"]
        store.rotate_secret(conn, endpoint_id, svc.vault.seal(secret), previous,
                            None if expire_now else now + ROTATION_OVERLAP)
    return row, secret


def enable(svc: Service, workspace_id: str, endpoint_id: str) -> dict[str, Any]:
    """Re-enable an endpoint that was disabled (by a person, after failures or a 410)."""
    row = endpoint_or_404(svc, workspace_id, endpoint_id)
    with svc.db.write() as conn:
        store.enable_endpoint(conn, workspace_id, endpoint_id)
    return row | {"status": "enabled", "disabled_reason": None}


def disable(svc: Service, workspace_id: str, endpoint_id: str) -> dict[str, Any]:
    """Stop sending to an endpoint; its pending deliveries are canceled."""
    row = endpoint_or_404(svc, workspace_id, endpoint_id)
    with svc.db.write() as conn:
        store.disable_endpoint(conn, endpoint_id, DISABLED_BY_USER, svc.clock())
    return row | {"status": "disabled", "disabled_reason": DISABLED_BY_USER}


def send_test(svc: Service, workspace_id: str, endpoint_id: str) -> tuple[dict[str, Any], str]:
    """A webhook.test event to this endpoint through the normal delivery path: (event row, delivery id)."""
    if endpoint_or_404(svc, workspace_id, endpoint_id)["status"] != "enabled":
        raise ConflictError(f"webhook endpoint {endpoint_id} is disabled; enable it first")
    now = svc.clock()
    with svc.db.write() as conn:
        event = events_store.store_event(conn, workspace_id, TEST_EVENT,
                                         {"endpoint_id": endpoint_id, "message": "hello from PostDodo"}, now=now)
        delivery_id = store.add_delivery(conn, event["id"], endpoint_id, workspace_id, now)
    svc.kick()
    return event, delivery_id


def deliveries_page(svc: Service, workspace_id: str, endpoint_id: str, limit: int, *,
                    cursor: str | None = None, status: str | None = None,
                    ) -> tuple[list[dict[str, Any]], str | None]:
    """An endpoint's deliveries, newest first, each with its attempts: (page, next cursor or None)."""
    endpoint_or_404(svc, workspace_id, endpoint_id)
    if status and status not in DELIVERY_STATUSES:
        raise InvalidRequestError(f"unknown status {status!r}; known: {', '.join(DELIVERY_STATUSES)}",
                                  param="status")
    after = svc.load_cursor(cursor, time_and_id) if cursor else None
    with svc.db.read() as conn:
        rows, has_more = store.list_deliveries(conn, workspace_id, endpoint_id, limit, after=after, status=status)
    next_cursor = svc.dump_cursor([rows[-1]["created_at"].isoformat(), rows[-1]["id"]]) if has_more else None
    return rows, next_cursor


def redeliver(svc: Service, workspace_id: str, event_id: str, only: str | None = None) -> list[str]:
    """Send an event again (same event id, new attempts) to its enabled endpoints, or to `only`: delivery ids."""
    now = svc.clock()
    with svc.db.write() as conn:
        event = events_store.get_event(conn, workspace_id, event_id)
        if event is None:
            raise NotFoundError(f"no event {event_id}", param="id")
        endpoints = store.list_endpoints(conn, workspace_id)
        if event["type"] == TEST_EVENT:  # a test event belongs to the endpoint it was made for
            only = only or event["data"].get("endpoint_id")
        if only is not None:
            endpoints = [ep for ep in endpoints if ep["id"] == only]
            if not endpoints:
                raise NotFoundError(f"no webhook endpoint {only}", param="endpoint_id")
        else:
            endpoints = [ep for ep in endpoints if store.subscribed(ep, event["type"])]
        targets = [ep for ep in endpoints if ep["status"] == "enabled"]
        if not targets:
            raise ConflictError(f"no enabled webhook endpoint would receive {event_id}")
        ids = [store.add_delivery(conn, event_id, ep["id"], workspace_id, now) for ep in targets]
    svc.kick()
    return ids


@bp.post("/webhooks")
@idempotent
def create() -> tuple[dict[str, Any], int]:
    """Register an endpoint; answers its whsec_ secret this once."""
    row, secret = register(service(), workspace()["id"], read_json(WebhookCreate))
    return endpoint_json(row, secret), 201


@bp.get("/webhooks")
def list_() -> dict[str, Any]:
    """Every endpoint of the workspace."""
    with service().db.read() as conn:
        rows = store.list_endpoints(conn, workspace()["id"])
    return {"data": [endpoint_json(r) for r in rows], "has_more": False, "next_cursor": None}


@bp.get("/webhooks/<endpoint_id>")
def get(endpoint_id: str) -> dict[str, Any]:
    """One endpoint."""
    return endpoint_json(endpoint_or_404(service(), workspace()["id"], endpoint_id))


@bp.delete("/webhooks/<endpoint_id>")
def delete(endpoint_id: str) -> dict[str, Any]:
    """Remove an endpoint; its pending deliveries stop."""
    return endpoint_json(remove(service(), workspace()["id"], endpoint_id))


@bp.post("/webhooks/<endpoint_id>/rotate")
def rotate(endpoint_id: str) -> dict[str, Any]:
    """A new secret; the old one keeps signing alongside for 24 h unless expire_now."""
    body = read_json(WebhookRotate, empty_ok=True)
    row, secret = rotate_secret(service(), workspace()["id"], endpoint_id, expire_now=body.expire_now)
    return endpoint_json(row, secret)


@bp.post("/webhooks/<endpoint_id>/enable")
def enable_view(endpoint_id: str) -> dict[str, Any]:
    """Re-enable an endpoint that was disabled after failures or a 410."""
    return endpoint_json(enable(service(), workspace()["id"], endpoint_id))


@bp.post("/webhooks/<endpoint_id>/test")
def test(endpoint_id: str) -> tuple[dict[str, Any], int]:
    """Send a webhook.test event to this endpoint through the normal delivery path."""
    event, delivery_id = send_test(service(), workspace()["id"], endpoint_id)
    answer = WebhookTest.model_validate({"event": events_store.envelope(event), "delivery_id": delivery_id})
    return answer.model_dump(mode="json"), 202


@bp.get("/webhooks/<endpoint_id>/deliveries")
def deliveries(endpoint_id: str) -> dict[str, Any]:
    """The endpoint's deliveries, newest first, with every attempt; paged by cursor, filtered by status."""
    known_args("limit", "cursor", "status")
    limit = limit_param(20)
    rows, next_cursor = deliveries_page(service(), workspace()["id"], endpoint_id, limit,
                                        cursor=request.args.get("cursor") or None,
                                        status=request.args.get("status") or None)
    data = [Delivery.model_validate(r).model_dump(mode="json") for r in rows]
    return {"data": data, "has_more": next_cursor is not None, "next_cursor": next_cursor}


@bp.post("/events/<event_id>/redeliver")
def redeliver_view(event_id: str) -> tuple[dict[str, Any], int]:
    """Send an event again (same event id, new attempts) to its endpoints, or to `?endpoint_id=` only."""
    known_args("endpoint_id")
    ids = redeliver(service(), workspace()["id"], event_id, request.args.get("endpoint_id") or None)
    return Redelivery(event_id=event_id, deliveries=ids).model_dump(mode="json"), 202
