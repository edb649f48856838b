"""The engine's Prometheus metrics: counters its workers bump, and gauges read from the database at scrape time.

Counters live in whichever process runs the job (engine threads, RQ workers, gunicorn workers) and are
summed through ``PROMETHEUS_MULTIPROC_DIR``; the gauges are queries, so any process serving /metrics
reports the same figures however many engines run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from ..metrics import built_once
from ..metrics import client as metrics_client
from ..storage import Database
from ..storage import heartbeat as heartbeat_store
from ..storage.schema import targets, webhook_endpoints
from ..storage.work import TARGET_DUE

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

log = logging.getLogger("postdodo.metrics")

LATE_AFTER = timedelta(seconds=60)  # a due target not claimed within this is late: the engine is behind or down
PUBLISH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True)
class EngineMetrics:
    """The counters and histograms of publish attempts and webhook deliveries."""

    publish_attempts: Counter
    publish_seconds: Histogram
    delivery_attempts: Counter
    delivery_failures: Counter


@built_once
def engine_metrics() -> EngineMetrics:
    """Built on first use, so a parent that forks workers can set PROMETHEUS_MULTIPROC_DIR first."""
    prom = metrics_client()
    return EngineMetrics(
        prom.Counter("postdodo_publish_attempts", "Publish attempts by platform and the status they left the target in",
                ["platform", "outcome"]),
        prom.Histogram("postdodo_publish_duration_seconds", "Time of one publish attempt, platform call and record",
                  ["platform"], buckets=PUBLISH_BUCKETS),
        prom.Counter("postdodo_webhook_delivery_attempts", "Webhook delivery attempts by endpoint id", ["endpoint_id"]),
        prom.Counter("postdodo_webhook_delivery_failures", "Failed webhook delivery attempts by endpoint id",
                ["endpoint_id"]),
    )


def observe_publish(platform: str, outcome: str, seconds: float) -> None:
    """Count one publish attempt and its duration."""
    m = engine_metrics()
    m.publish_attempts.labels(platform, outcome).inc()
    m.publish_seconds.labels(platform).observe(seconds)


def observe_delivery(endpoint_id: str, ok: bool) -> None:
    """Count one delivery attempt (the endpoint's id, never its URL: a hook URL is a credential)."""
    m = engine_metrics()
    m.delivery_attempts.labels(endpoint_id).inc()
    if not ok:
        m.delivery_failures.labels(endpoint_id).inc()


class EngineCollector:
    """Scrape-time gauges: targets due, claimed and late, endpoints by status, heartbeat age, RQ queue depth."""

    def __init__(self, db: Database, clock: Callable[[], datetime], redis: Any = None) -> None:
        self.db, self.clock, self.redis = db, clock, redis

    def collect(self) -> Iterator[Any]:
        """One read of the database (and Redis in scaled mode); a failing backend leaves its gauges out."""
        from prometheus_client.core import GaugeMetricFamily

        now = self.clock()
        try:
            with self.db.read() as conn:
                due = _count(conn, targets.c.status.in_(TARGET_DUE), targets.c.next_attempt_at <= now)
                late = _count(conn, targets.c.status.in_(TARGET_DUE), targets.c.next_attempt_at <= now - LATE_AFTER)
                claimed = _count(conn, targets.c.status == "publishing")
                endpoints: dict[str, int] = dict(conn.execute(
                    select(webhook_endpoints.c.status, func.count()).where(webhook_endpoints.c.deleted_at.is_(None))
                    .group_by(webhook_endpoints.c.status)).all())
                beat_age = heartbeat_store.age(conn, now)
        except Exception:
            log.warning("metrics: the database did not answer", exc_info=True)
        else:
            for name, text, value in (
                ("postdodo_targets_due", "Targets whose attempt time has come and no worker holds", due),
                ("postdodo_targets_late", f"Due targets waiting more than {LATE_AFTER.seconds}s", late),
                ("postdodo_targets_claimed", "Targets a worker holds (status publishing)", claimed),
            ):
                yield GaugeMetricFamily(name, text, value=value)
            family = GaugeMetricFamily("postdodo_webhook_endpoints", "Webhook endpoints by status", labels=["status"])
            for status in ("enabled", "disabled"):
                family.add_metric([status], endpoints.get(status, 0))
            yield family
            if beat_age is not None:
                yield GaugeMetricFamily("postdodo_engine_heartbeat_age_seconds",
                                        "Seconds since a scheduler last recorded its heartbeat", value=beat_age)
        if self.redis is not None:
            yield from self._queues()

    def _queues(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily
        from rq import Queue

        from .dispatch import PUBLISH_QUEUE, WEBHOOK_QUEUE

        try:
            depth = {name: Queue(name, connection=self.redis).count for name in (PUBLISH_QUEUE, WEBHOOK_QUEUE)}
        except Exception:
            log.warning("metrics: Redis did not answer", exc_info=True)
            return
        family = GaugeMetricFamily("postdodo_queue_depth", "Jobs waiting on an RQ queue", labels=["queue"])
        for name, count in depth.items():
            family.add_metric([name], count)
        yield family


def _count(conn: Any, *where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(targets).where(*where)).scalar_one())
