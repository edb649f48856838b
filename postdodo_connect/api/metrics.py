"""GET /metrics in Prometheus text format, and the per-request counter behind it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from ..engine.metrics import EngineCollector
from ..metrics import built_once, exposition
from ..metrics import client as metrics_client
from .service import Service

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

UNMATCHED = "<unmatched>"  # 404s: a raw path as a label would let any caller create series without end
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # any other verb: "other"
STARTED = "postdodo.started"  # the WSGI environ key holding the request's start time
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


def init_app(app: Flask, service: Service, redis: Any = None) -> None:
    """Count and time every request, refused and failed ones included, and add /metrics."""
    # (method, route, status) -> the labelled children: .labels() costs more than the increment itself
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
    inner = app.wsgi_app

    def timed(environ: dict[str, Any], start_response: Any) -> Any:
        # the clock starts in WSGI, not in a before_request hook: a hook that raises (auth) skips the later ones
        environ[STARTED] = time.perf_counter()
        return inner(environ, start_response)

    timed.__wrapped__ = inner  # type: ignore[attr-defined]
    app.wsgi_app = timed  # type: ignore[method-assign]

    @app.after_request
    def _count(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one context lookup, not one per field
        rule = req.url_rule
        method = req.method if req.method in METHODS else "other"
        key = (method, rule.rule if rule is not None else UNMATCHED, response.status_code)
        pair = children.get(key)
        if pair is None:
            m = http_metrics()
            pair = children[key] = (m.requests.labels(key[0], key[1], str(key[2])), m.seconds.labels(key[0], key[1]))
        pair[0].inc()
        now = time.perf_counter()
        pair[1].observe(now - req.environ.get(STARTED, now))
        return response

    collector = EngineCollector(service.db, service.clock, redis)

    def metrics() -> Response:
        """Every process's metrics plus the database-backed gauges, in Prometheus text format."""
        body, content_type = exposition(collector)
        return Response(body, content_type=content_type)

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
