"""The receiver's Prometheus metrics: deliveries by event type and answer, and how long enqueueing takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, Response, g, request

from postdodo_connect.metrics import built_once, client, exposition

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

#: the event label of a delivery refused before its signature was checked: its body is anyone's words
UNVERIFIED = "unverified"
ENQUEUE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


@dataclass(frozen=True)
class ReceiverMetrics:
    """Deliveries by type and HTTP answer; enqueue latency."""

    events: Counter
    enqueue_seconds: Histogram


@built_once
def receiver_metrics() -> ReceiverMetrics:
    """Built on first use, after serve's parent prepared PROMETHEUS_MULTIPROC_DIR."""
    prom = client()
    return ReceiverMetrics(
        prom.Counter("postdodo_receiver_events", "Deliveries received by event type and the status answered",
                     ["event", "status"]),
        prom.Histogram("postdodo_receiver_enqueue_duration_seconds", "Time to enqueue a verified event durably",
                       buckets=ENQUEUE_BUCKETS),
    )


def verified(event_type: str) -> None:
    """Label this request's delivery with its (signed, so trustworthy) event type."""
    g.receiver_event = event_type


def observe_enqueue(seconds: float) -> None:
    """Record one enqueue's duration."""
    receiver_metrics().enqueue_seconds.observe(seconds)


def init_app(app: Flask, endpoint: str) -> None:
    """Count every answer of the delivery `endpoint` and serve GET /metrics."""

    @app.after_request
    def _count(response: Response) -> Response:
        if request.endpoint == endpoint:
            event = g.get("receiver_event", UNVERIFIED)
            receiver_metrics().events.labels(event, str(response.status_code)).inc()
        return response

    def metrics() -> Response:
        """Every worker's metrics in Prometheus text format."""
        body, content_type = exposition()
        return Response(body, content_type=content_type)

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
