"""GET /metrics in Prometheus text format, and the per-request counter behind it (fed by the WSGI edge)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, Response

from ..engine.metrics import EngineCollector
from ..metrics import built_once, exposition
from ..metrics import client as metrics_client
from .edge import Count
from .service import Service

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


@dataclass(frozen=True)
class HTTPMetrics:
    """Requests by route template and status, and their latency."""

    requests: Counter
    seconds: Histogram


@built_once
def http_metrics() -> HTTPMetrics:
    """Built on first use (see postdodo_connect.metrics on why not at import)."""
    prom = metrics_client()
    return HTTPMetrics(
        prom.Counter("postdodo_http_requests", "API requests by method, route template and status",
                ["method", "route", "status"]),
        prom.Histogram("postdodo_http_request_duration_seconds", "API request latency by method and route template",
                  ["method", "route"], buckets=HTTP_BUCKETS),
    )


def init_app(app: Flask, service: Service, redis: Any = None) -> Count:
    """Add /metrics; answers the counter of requests and their latency (the WSGI edge calls it for each one)."""
    # (method, route, status) -> the labelled children: .labels() costs more than the increment itself
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def count(method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        pair = children.get(key)
        if pair is None:
            m = http_metrics()
            pair = children[key] = (m.requests.labels(method, route, str(status)), m.seconds.labels(method, route))
        pair[0].inc()
        pair[1].observe(seconds)

    collector = EngineCollector(service.db, service.clock, redis)

    def metrics() -> Response:
        """Every process's metrics plus the database-backed gauges, in Prometheus text format."""
        body, content_type = exposition(collector)
        return Response(body, content_type=content_type)

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
    return count
