"""The checks behind GET /healthz: database, Redis when configured, and the engine's heartbeat."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text

from ..storage import heartbeat
from .service import Service

log = logging.getLogger("postdodo.health")
TIMEOUT = 1.0  # seconds a probe may wait on Redis: a load balancer's health check must answer fast


def ops_redis(redis_url: str | None) -> Any:
    """A Redis client for probes and queue gauges, with short timeouts; None in embedded mode."""
    if not redis_url:
        return None
    from redis import Redis

    return Redis.from_url(redis_url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)


def report(service: Service, redis: Any) -> tuple[dict[str, Any], int]:
    """The health body and its HTTP status: 503 when a check this process needs to serve requests fails."""
    checks: dict[str, dict[str, Any]] = {"database": _database(service)}
    if redis is not None:
        checks["redis"] = _redis(redis)
    checks["engine"] = _engine(service) if checks["database"]["status"] == "ok" else {
        "status": "unknown", "required": False, "error": "the database is unreachable"}
    failing = [name for name, check in checks.items() if check["status"] != "ok"]
    status = "down" if "database" in failing else "degraded" if failing else "ok"
    code = 503 if any(checks[name]["required"] for name in failing) else 200
    return {"status": status, "checks": checks}, code


def _database(service: Service) -> dict[str, Any]:
    try:
        with service.db.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        # the class only: a driver's message may quote the URL it failed to reach
        log.warning("health: database unreachable (%s)", exc.__class__.__name__)
        return {"status": "error", "required": True, "error": f"unreachable ({exc.__class__.__name__})"}
    return {"status": "ok", "required": True}


def _redis(redis: Any) -> dict[str, Any]:
    try:
        redis.ping()
    except Exception as exc:
        log.warning("health: Redis unreachable (%s)", exc.__class__.__name__)
        return {"status": "error", "required": True, "error": f"unreachable ({exc.__class__.__name__}); "
                "rate limits count per process and queued work waits until it is back"}
    return {"status": "ok", "required": True}


def _engine(service: Service) -> dict[str, Any]:
    """Reported, never required: an engine outage must not take the API out of a load balancer's rotation."""
    try:
        with service.db.read() as conn:
            last = heartbeat.last(conn)
    except Exception as exc:  # the database went away since its own check
        return {"status": "unknown", "required": False, "error": f"unreadable ({exc.__class__.__name__})"}
    if last is None:
        return {"status": "missing", "required": False, "error": "no engine has recorded a heartbeat yet"}
    age = round(max(0.0, service.clock().timestamp() - float(last["at"])), 1)
    check: dict[str, Any] = {"status": "ok" if age <= heartbeat.STALE_AFTER else "stale", "required": False,
                             "age_seconds": age}
    if check["status"] == "stale":
        check["error"] = f"no heartbeat for {age:g}s (stale after {heartbeat.STALE_AFTER:g}s)"
    return check
