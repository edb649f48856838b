"""Hand verified events to RQ exactly once per event id, or run them inline in development."""

from __future__ import annotations

import enum
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import rq.scripts
from redis import Redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry as RedisRetry
from rq import Queue
from rq.exceptions import DuplicateJobError, InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus, Retry
from rq.registry import BaseRegistry, CanceledJobRegistry, FailedJobRegistry
from rq.serializers import JSONSerializer
from rq.utils import now as rq_now

from postdodo_connect.errors import JobFailed, QueueUnavailable
from receiver.config import ReceiverSettings
from receiver.routes import Route

__all__ = [
    "FAILURE_TTL",
    "JOB_ID_PREFIX",
    "RESULT_TTL",
    "EventQueue",
    "InlineQueue",
    "JobFailed",
    "Outcome",
    "QueueUnavailable",
    "RedisEventQueue",
    "fast_fail_redis",
    "job_id_for",
    "requeue_failed",
    "worker_redis",
]

JOB_ID_PREFIX = "pdevt_"
# The finished job hash *is* the dedupe record, so it must outlive the sender's ~3.1-day retry horizon.
RESULT_TTL = 4 * 24 * 3600
# A failed job stays findable (and requeueable on redelivery) well past that horizon.
FAILURE_TTL = 30 * 24 * 3600
_RETRYABLE_AGAIN = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
# The atomic check-save-push Lua script behind enqueue(unique=True); if a release moves it,
# RedisEventQueue falls back to enqueue_call(unique=True).
_SAVE_UNIQUE: Callable[..., Any] | None = getattr(rq.scripts, "save_unique_job", None)


class Outcome(enum.StrEnum):
    """What happened to one delivery."""

    ENQUEUED = "enqueued"
    REQUEUED = "requeued"
    DUPLICATE = "duplicate"
    PROCESSED = "processed"


class EventQueue(Protocol):
    """What the view needs from a queue backend."""

    def enqueue(self, route: Route, event: Mapping[str, Any], event_id: str) -> tuple[Outcome, str]:
        """Hand one verified event to its route."""
        ...

    def ping(self) -> bool:
        """Whether the backend can take work now."""
        ...


def job_id_for(event_id: str) -> str:
    """RQ job id of an event: a hash, so any header value yields a valid, fixed-length id."""
    return JOB_ID_PREFIX + hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:40]


def fast_fail_redis(url: str, *, connect_timeout: float = 0.25, socket_timeout: float = 0.5) -> Redis:
    """A Redis client for the web process: short timeouts and no retries, so an outage is a quick 503."""
    # redis-py >= 6 retries with backoff by default, which turns an outage into seconds per request.
    return Redis.from_url(
        url,
        socket_connect_timeout=connect_timeout,
        socket_timeout=socket_timeout,
        retry=RedisRetry(NoBackoff(), 0),
    )


def worker_redis(url: str) -> Redis:
    """A Redis client for workers and the CLI, where waiting out a blip beats failing."""
    retry = RedisRetry(ExponentialBackoff(cap=2.0, base=0.1), 3)
    return Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30, retry=retry)


class RedisEventQueue:
    """Enqueue into RQ uniquely by job id; a duplicate of a failed job is requeued, not dropped."""

    # The queue-name set (`rq:queues`) only feeds `rq info` and dashboards: refresh it now and then.
    REGISTER_EVERY = 60.0

    def __init__(
        self,
        connection: Redis,
        settings: ReceiverSettings,
        queue_names: Iterable[str],
        *,
        single_round_trip: bool = True,
    ) -> None:
        """Build one rq.Queue per routed queue name, reused for every request."""
        self.connection = connection
        self.settings = settings
        self.queues = {
            name: Queue(name, connection=connection, serializer=JSONSerializer, default_timeout=settings.job_timeout)
            for name in sorted(set(queue_names))
        }
        intervals = list(settings.job_retry_intervals)
        self._retry = Retry(max=settings.job_retries, interval=intervals) if settings.job_retries else None
        self.single_round_trip = single_round_trip and _SAVE_UNIQUE is not None
        self._registered_at: dict[str, float] = {}

    def enqueue(self, route: Route, event: Mapping[str, Any], event_id: str) -> tuple[Outcome, str]:
        """Enqueue once; on a duplicate id, requeue a failed/stopped/canceled job or report the duplicate."""
        job_id = job_id_for(event_id)
        queue = self.queues[route.queue]
        try:
            # Two rounds: a duplicate whose job expired between the check and the read is enqueued afresh.
            for _ in range(2):
                try:
                    self._enqueue_unique(queue, route, dict(event), job_id)
                except DuplicateJobError:
                    outcome = self._on_duplicate(queue, job_id)
                    if outcome is not None:
                        return outcome, job_id
                else:
                    return Outcome.ENQUEUED, job_id
        except RedisError as exc:
            raise QueueUnavailable(f"Redis unavailable: {type(exc).__name__}") from exc
        raise QueueUnavailable("job kept vanishing while deduplicating")

    def _enqueue_unique(self, queue: Queue, route: Route, event: dict[str, Any], job_id: str) -> None:
        """Save and push the job atomically, or raise DuplicateJobError if its id exists."""
        options: dict[str, Any] = {
            "job_id": job_id,
            "result_ttl": RESULT_TTL,
            "failure_ttl": FAILURE_TTL,
            "ttl": None,  # a queued job never expires: a backlog must not drop events
            "retry": self._retry,
            "description": f"{route.event_type} {job_id}",
        }
        if not self.single_round_trip or _SAVE_UNIQUE is None:
            # rq's own path: one MULTI/SADD/EXEC round trip, then the unique-enqueue Lua script.
            queue.enqueue_call(route.func_path, args=(event,), unique=True, **options)
            return
        # Same job hash and the same atomic Lua script (check + save + push) as enqueue_call(unique=True),
        # minus its per-call queue-registration round trip: that halves the Redis time per delivery.
        job = queue.create_job(
            route.func_path, args=(event,), status=JobStatus.QUEUED, timeout=self.settings.job_timeout, **options
        )
        job.origin = queue.name
        job.enqueued_at = rq_now()
        _SAVE_UNIQUE(self.connection, queue.key, job)
        self._register(queue)

    def _register(self, queue: Queue) -> None:
        """Add the queue to `rq:queues` at most once a minute per process."""
        now = time.monotonic()
        if now - self._registered_at.get(queue.name, -self.REGISTER_EVERY) >= self.REGISTER_EVERY:
            try:
                self.connection.sadd(queue.redis_queues_keys, queue.key)
            except RedisError:
                return  # cosmetic: the job is already enqueued, so the delivery still succeeds
            self._registered_at[queue.name] = now

    def _on_duplicate(self, queue: Queue, job_id: str) -> Outcome | None:
        """Requeue a job that ended badly, else report a duplicate; None if the job is gone."""
        try:
            job = Job.fetch(job_id, connection=self.connection, serializer=JSONSerializer)
        except NoSuchJobError:
            return None
        status = job.get_status(refresh=False)
        if status not in _RETRYABLE_AGAIN:
            return Outcome.DUPLICATE
        registry_class = CanceledJobRegistry if status == JobStatus.CANCELED else FailedJobRegistry
        registry: BaseRegistry = registry_class(
            job.origin or queue.name, connection=self.connection, serializer=JSONSerializer
        )
        try:
            registry.requeue(job)
        except InvalidJobOperation:
            return Outcome.DUPLICATE  # a concurrent redelivery requeued it first
        return Outcome.REQUEUED

    def ping(self) -> bool:
        """Whether Redis answers PING now (fast-fail client)."""
        try:
            return bool(self.connection.ping())
        except RedisError:
            return False


class InlineQueue:
    """Development mode: run the job inside the request; nothing is durable, dedupe is per process."""

    def __init__(self, capacity: int = 10_000) -> None:
        """Remember up to ``capacity`` processed event ids."""
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def enqueue(self, route: Route, event: Mapping[str, Any], event_id: str) -> tuple[Outcome, str]:
        """Run the routed function now; a repeat of a processed event is a duplicate."""
        job_id = job_id_for(event_id)
        with self._lock:
            if job_id in self._seen:
                return Outcome.DUPLICATE, job_id
            self._seen[job_id] = None  # claim before running so a concurrent repeat does not run it twice
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
        try:
            route.func(dict(event))
        except Exception as exc:
            with self._lock:
                self._seen.pop(job_id, None)  # not processed: a redelivery must run it again
            raise JobFailed(f"job {route.target} failed: {type(exc).__name__}") from exc
        return Outcome.PROCESSED, job_id

    def ping(self) -> bool:
        """Inline mode has no backend to lose."""
        return True


def requeue_failed(connection: Redis, queue_names: Iterable[str]) -> int:
    """Requeue every job in the failed registries of these queues; return how many."""
    count = 0
    for name in sorted(set(queue_names)):
        registry = FailedJobRegistry(name, connection=connection, serializer=JSONSerializer)
        for job_id in registry.get_job_ids():
            try:
                registry.requeue(job_id)
            except (InvalidJobOperation, NoSuchJobError):
                continue  # requeued or expired meanwhile
            count += 1
    return count
