"""Dispatchers hand claimed work to workers: a bounded thread pool, or RQ queues."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from rq import Queue

from ..errors import QueueUnavailable

log = logging.getLogger("postdodo.dispatch")

PUBLISH_QUEUE = "postdodo-publish"
WEBHOOK_QUEUE = "postdodo-webhooks"
JOB_TTL = 7 * 86400  # keep failed/finished job records a week for inspection
PER_WORKER = 2  # RQ jobs claimed per live worker: the one it runs and the next, so it never waits on a claim


Job = tuple[str, str, int]  # (kind, row id, attempt)


@dataclass
class Unfinished:
    """What a closing dispatcher leaves undone: its rows are still leased to this process."""

    queued: list[Job] = field(default_factory=list)  #: claimed, never started
    running: list[Job] = field(default_factory=list)  #: started, still running when the grace period ended


class Dispatcher(Protocol):
    """Where the scheduler sends claimed targets and deliveries."""

    def free_slots(self, kind: str) -> int:
        """How many more jobs of `kind` ("publish" | "deliver") should be claimed now."""

    def submit(self, kind: str, jobs: Sequence[tuple[str, int]]) -> None:
        """Run one job per claimed row, given as (row id, attempt)."""

    def close(self, grace: float = 30.0) -> Unfinished:
        """Stop accepting work, give running jobs up to `grace` seconds; returns what is left undone."""


class ThreadDispatcher:
    """Embedded mode: two bounded pools, so slow webhook endpoints never hold up publishing."""

    def __init__(self, run: dict[str, Callable[[str, int], object]], workers: int,
                 on_done: Callable[[], None] = lambda: None) -> None:
        self.run, self.on_done = run, on_done
        # refresh: renewing tokens ahead of expiry, a few per minute at most
        self.size = {"publish": workers, "deliver": max(2, workers), "refresh": 2}
        self.pools = {kind: ThreadPoolExecutor(size, thread_name_prefix=f"postdodo-{kind}")
                      for kind, size in self.size.items()}
        self.busy = dict.fromkeys(self.size, 0)
        self.lock = threading.Lock()
        self.jobs: dict[Job, Future[None]] = {}  # submitted and not finished, for a graceful close

    def free_slots(self, kind: str) -> int:
        """Room in that pool: up to one queued job per worker, taken a pool-full at a time."""
        with self.lock:
            return self._claimable(kind)

    def _claimable(self, kind: str) -> int:
        # (the caller holds the lock) a claim per finished job would spend more on claiming than on
        # publishing; a short queue also keeps every worker busy while the next claim runs
        free = 2 * self.size[kind] - self.busy[kind]
        return free if free >= self.size[kind] else 0

    def outstanding(self) -> list[Job]:
        """The jobs submitted and not finished (waiting or running)."""
        with self.lock:
            return list(self.jobs)

    def submit(self, kind: str, jobs: Sequence[tuple[str, int]]) -> None:
        """Queue the jobs on their pool."""
        with self.lock:  # held while submitting: a job that ends at once forgets itself only after this
            self.busy[kind] += len(jobs)
            for row_id, attempt in jobs:
                self.jobs[(kind, row_id, attempt)] = self.pools[kind].submit(self._job, kind, row_id, attempt)

    def _job(self, kind: str, row_id: str, attempt: int) -> None:
        try:
            self.run[kind](row_id, attempt)
        except Exception:  # a job never takes the pool down; the reaper retries its row
            log.exception("%s job for %s failed", kind, row_id)
        finally:
            with self.lock:
                self.busy[kind] -= 1
                refill = self._claimable(kind) > 0
                self.jobs.pop((kind, row_id, attempt), None)
            if refill:  # wake the scheduler only when it may claim: a tick per finished job costs more than the job
                self.on_done()

    def close(self, grace: float = 30.0) -> Unfinished:
        """Drop queued jobs, give running ones up to `grace` seconds; returns both kinds left undone."""
        left = Unfinished()
        with self.lock:
            jobs = {future: job for job, future in self.jobs.items()}
        for future, job in jobs.items():
            if future.cancel():
                left.queued.append(job)
        for pool in self.pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        _, late = wait([f for f in jobs if not f.cancelled()], timeout=grace)
        left.running = [jobs[f] for f in late]
        return left


class RQDispatcher:
    """Scaled mode: one RQ job per claim, on the postdodo queues; job id = row id + attempt."""

    FUNCS = {"publish": "postdodo_connect.engine.jobs.publish_target",
             "deliver": "postdodo_connect.engine.jobs.deliver_event",
             "refresh": "postdodo_connect.engine.jobs.refresh_account"}
    QUEUES = {"publish": PUBLISH_QUEUE, "deliver": WEBHOOK_QUEUE, "refresh": PUBLISH_QUEUE}

    def __init__(self, redis_url: str, batch: int = 500, job_timeout: int = 240) -> None:
        from redis import Redis
        from rq.serializers import JSONSerializer

        self.redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.queues = {kind: Queue(name, connection=self.redis, serializer=JSONSerializer)
                       for kind, name in self.QUEUES.items()}
        self.batch, self.job_timeout = batch, job_timeout

    def free_slots(self, kind: str) -> int:
        """Room on that queue: PER_WORKER jobs per live RQ worker, less those waiting or running there.

        Claimed work never ages in Redis: with no worker nothing is claimed, and a burst waits in the
        database (due, visible) until workers free up. Like the thread pools, room opens a worker-full at a time.
        """
        from redis.exceptions import RedisError
        from rq.worker_registration import WORKERS_BY_QUEUE_KEY

        queue = self.queues[kind]
        try:
            registered = list(self.redis.smembers(WORKERS_BY_QUEUE_KEY % queue.name))
            pipe = self.redis.pipeline(transaction=False)
            for key in registered:  # a killed worker stays in the set until RQ cleans it; its key expires
                pipe.exists(key)
            pipe.llen(queue.key)
            pipe.zcard(queue.started_job_registry.key)
            *exists, queued, running = pipe.execute()
        except RedisError as exc:
            raise QueueUnavailable(f"Redis unreachable ({type(exc).__name__}): cannot dispatch") from exc
        live = sum(1 for found in exists if found)
        free = PER_WORKER * live - queued - min(running, live)
        return min(self.batch, free) if free >= live > 0 else 0

    def submit(self, kind: str, jobs: Sequence[tuple[str, int]]) -> None:
        """Enqueue a claim batch in one pipeline; if Redis loses it, the leases run out and the reaper takes over."""
        from redis.exceptions import RedisError

        queue = self.queues[kind]
        try:
            self._enqueue(queue, kind, jobs)
        except RedisError as exc:  # an expected outage, said once by the scheduler, not a bug's traceback
            raise QueueUnavailable(f"Redis unreachable ({type(exc).__name__}): cannot dispatch") from exc

    def _enqueue(self, queue: Queue, kind: str, jobs: Sequence[tuple[str, int]]) -> None:
        queue.enqueue_many([
            Queue.prepare_data(self.FUNCS[kind], (row_id, attempt), job_id=f"{row_id}-{attempt}", result_ttl=3600,
                               failure_ttl=JOB_TTL, timeout=self.job_timeout)
            for row_id, attempt in jobs
        ])

    def close(self, grace: float = 30.0) -> Unfinished:
        """Close the Redis connection pool; enqueued jobs belong to the RQ workers."""
        self.redis.close()
        return Unfinished()
