"""Webhook endpoints, their deliveries and the attempt log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from .ids import new_id
from .schema import deliveries, delivery_attempts, events
from .schema import webhook_endpoints as endpoints

PUBLIC = (endpoints.c.id, endpoints.c.url, endpoints.c.events, endpoints.c.description, endpoints.c.status,
          endpoints.c.disabled_reason, endpoints.c.created_at)
_LIVE = endpoints.c.deleted_at.is_(None)


def subscribed(endpoint: dict[str, Any], event_type: str) -> bool:
    """True when the endpoint wants this event type (an empty filter means every type)."""
    return not endpoint["events"] or event_type in endpoint["events"]


def create_endpoint(conn: Connection, workspace_id: str, *, url: str, events_: list[str], description: str | None,
                    sealed_secret: str, now: datetime) -> dict[str, Any]:
    """Store a new enabled endpoint; the secret arrives sealed."""
    row = {"id": new_id("wh"), "workspace_id": workspace_id, "url": url, "events": events_,
           "description": description, "status": "enabled", "disabled_reason": None, "secret": sealed_secret,
           "created_at": now}
    conn.execute(insert(endpoints).values(**row))
    return {c.name: row[c.name] for c in PUBLIC}


def count_endpoints(conn: Connection, workspace_id: str) -> int:
    """How many live endpoints the workspace has."""
    return int(conn.execute(select(func.count()).select_from(endpoints)
                            .where(endpoints.c.workspace_id == workspace_id, _LIVE)).scalar_one())


def list_endpoints(conn: Connection, workspace_id: str) -> list[dict[str, Any]]:
    """The workspace's endpoints, oldest first."""
    rows = conn.execute(select(*PUBLIC).where(endpoints.c.workspace_id == workspace_id, _LIVE)
                        .order_by(endpoints.c.created_at, endpoints.c.id))
    return [dict(r._mapping) for r in rows]


def get_endpoint(conn: Connection, workspace_id: str, endpoint_id: str) -> dict[str, Any] | None:
    """One endpoint of the workspace (public columns)."""
    row = conn.execute(select(*PUBLIC).where(endpoints.c.id == endpoint_id, endpoints.c.workspace_id == workspace_id,
                                             _LIVE)).first()
    return dict(row._mapping) if row else None


def load_endpoint(conn: Connection, endpoint_id: str) -> dict[str, Any] | None:
    """Every column of one endpoint, sealed secrets included (engine use only)."""
    row = conn.execute(select(endpoints).where(endpoints.c.id == endpoint_id)).first()
    return dict(row._mapping) if row else None


def _cancel_pending(conn: Connection, endpoint_id: str, now: datetime) -> int:
    """Stop the endpoint's waiting deliveries (attempts already in flight finish on their own)."""
    return conn.execute(update(deliveries).where(deliveries.c.endpoint_id == endpoint_id,
                                                 deliveries.c.status == "pending")
                        .values(status="canceled", next_attempt_at=None, updated_at=now)).rowcount


def delete_endpoint(conn: Connection, workspace_id: str, endpoint_id: str, now: datetime) -> bool:
    """Remove an endpoint and stop its pending deliveries."""
    done = conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id,
                                                endpoints.c.workspace_id == workspace_id, _LIVE)
                        .values(deleted_at=now, status="disabled", disabled_reason="deleted")).rowcount == 1
    if done:
        _cancel_pending(conn, endpoint_id, now)
    return done


def disable_endpoint(conn: Connection, endpoint_id: str, reason: str, now: datetime) -> bool:
    """Disable an enabled endpoint and cancel its waiting deliveries; False if it was not enabled."""
    done = conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id, endpoints.c.status == "enabled")
                        .values(status="disabled", disabled_reason=reason)).rowcount == 1
    if done:
        _cancel_pending(conn, endpoint_id, now)
    return done


def enable_endpoint(conn: Connection, workspace_id: str, endpoint_id: str) -> bool:
    """Re-enable a live endpoint with a fresh failure record."""
    return conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id,
                                                endpoints.c.workspace_id == workspace_id, _LIVE)
                        .values(status="enabled", disabled_reason=None, failing_since=None)).rowcount == 1


def rotate_secret(conn: Connection, endpoint_id: str, sealed_secret: str, previous: str | None,
                  previous_expires_at: datetime | None) -> None:
    """Install a new secret; `previous` keeps signing alongside until `previous_expires_at`."""
    update_endpoint(conn, endpoint_id, secret=sealed_secret, previous_secret=previous,
                    previous_expires_at=previous_expires_at)


def mark_failing(conn: Connection, endpoint_id: str, now: datetime) -> datetime:
    """Start the endpoint's failure clock unless it is running; returns when it started."""
    conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id, endpoints.c.failing_since.is_(None))
                 .values(failing_since=now))
    since = conn.execute(select(endpoints.c.failing_since).where(endpoints.c.id == endpoint_id)).scalar_one()
    return since if since is not None else now


def mark_healthy(conn: Connection, endpoint_id: str) -> None:
    """A delivery succeeded: the failure clock stops."""
    conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id, endpoints.c.failing_since.is_not(None))
                 .values(failing_since=None))


def update_endpoint(conn: Connection, endpoint_id: str, **values: Any) -> None:
    """Change an endpoint's columns (status, secrets, failure tracking)."""
    conn.execute(update(endpoints).where(endpoints.c.id == endpoint_id).values(**values))


def list_deliveries(conn: Connection, workspace_id: str, endpoint_id: str, limit: int = 50, *,
                    after: tuple[datetime, str] | None = None, status: str | None = None,
                    ) -> tuple[list[dict[str, Any]], bool]:
    """An endpoint's deliveries, newest first, each with its attempt log; returns (page, has_more)."""
    query = (select(deliveries, events.c.type.label("event"))
             .join(events, events.c.id == deliveries.c.event_id)
             .where(deliveries.c.endpoint_id == endpoint_id, deliveries.c.workspace_id == workspace_id))
    if status:
        query = query.where(deliveries.c.status == status)
    if after:
        created, last_id = after
        query = query.where(or_(deliveries.c.created_at < created,
                                and_(deliveries.c.created_at == created, deliveries.c.id < last_id)))
    rows = conn.execute(query.order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc()).limit(limit + 1)).all()
    by_id: dict[str, dict[str, Any]] = {r.id: dict(r._mapping) | {"log": []} for r in rows[:limit]}
    if by_id:
        for a in conn.execute(select(delivery_attempts).where(delivery_attempts.c.delivery_id.in_(list(by_id)))
                              .order_by(delivery_attempts.c.id)):
            by_id[a.delivery_id]["log"].append(dict(a._mapping))
    return list(by_id.values()), len(rows) > limit


def add_delivery(conn: Connection, event_id: str, endpoint_id: str, workspace_id: str, now: datetime) -> str:
    """A new pending delivery of an existing event (redeliver, test)."""
    delivery_id = new_id("dlv")
    conn.execute(insert(deliveries).values(id=delivery_id, event_id=event_id, endpoint_id=endpoint_id,
                                           workspace_id=workspace_id, status="pending", attempts=0,
                                           next_attempt_at=now, created_at=now, updated_at=now))
    return delivery_id


def record_attempt(conn: Connection, delivery_id: str, now: datetime, *, status_code: int | None, latency_ms: int,
                   error: str | None, response_body: str | None) -> None:
    """Append one HTTP attempt to a delivery's log."""
    conn.execute(insert(delivery_attempts).values(
        delivery_id=delivery_id, attempted_at=now, status_code=status_code, latency_ms=latency_ms, error=error,
        response_body=response_body))


def finish_delivery(conn: Connection, delivery_id: str, attempt: int, now: datetime, **values: Any) -> bool:
    """Record an attempt's outcome, only if this attempt still owns the delivery."""
    return conn.execute(update(deliveries).where(deliveries.c.id == delivery_id, deliveries.c.attempts == attempt,
                                                 deliveries.c.status == "delivering")
                        .values(lease_until=None, updated_at=now, **values)).rowcount == 1


def busy_ahead(conn: Connection, endpoint_id: str, delivery_id: str, created_at: datetime) -> int:
    """Deliveries to the endpoint in flight that come before this one (oldest first, then by id)."""
    return int(conn.execute(
        select(func.count()).select_from(deliveries)
        .where(deliveries.c.endpoint_id == endpoint_id, deliveries.c.status == "delivering",
               or_(deliveries.c.created_at < created_at,
                   and_(deliveries.c.created_at == created_at, deliveries.c.id < delivery_id)))
    ).scalar_one())


def others_waiting(conn: Connection, endpoint_id: str, now: datetime) -> bool:
    """True when a delivery to another endpoint is due or in flight."""
    found = conn.execute(
        select(deliveries.c.id)
        .where(deliveries.c.endpoint_id != endpoint_id,
               or_(and_(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now),
                   deliveries.c.status == "delivering"))
        .limit(1)
    ).first()
    return found is not None


def release_delivery(conn: Connection, delivery_id: str, attempt: int, now: datetime, retry_at: datetime) -> bool:
    """Hand a claimed delivery back untried: the claim's attempt is not counted."""
    return conn.execute(update(deliveries).where(deliveries.c.id == delivery_id, deliveries.c.attempts == attempt,
                                                 deliveries.c.status == "delivering")
                        .values(status="pending", attempts=attempt - 1, next_attempt_at=retry_at, lease_until=None,
                                updated_at=now)).rowcount == 1
