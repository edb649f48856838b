"""The engine assembled from Settings: database, vault, adapters, publisher, deliverer, dispatcher, scheduler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .. import netguard, platforms
from ..config import Settings
from ..platforms.oauth import ClientApp
from ..platforms.sandbox import Sandbox
from ..storage import Database, Vault, keyring, utcnow
from ..storage.group_commit import GroupCommit
from ..storage.migrate import open_database
from ..storage.retention import DAY, Retention
from . import wake
from .credentials import Keeper, TokenSweep, oauth_client
from .deliveries import Deliverer
from .dispatch import Dispatcher, RQDispatcher, ThreadDispatcher, Unfinished
from .leases import Leases, job_timeout
from .publisher import Publisher
from .retry import RetryPolicy
from .scheduler import Scheduler

log = logging.getLogger("postdodo.engine")


class Runtime:
    """Everything the engine needs, built once per process."""

    def __init__(self, settings: Settings, db: Database | None = None, *,
                 clock: Callable[[], datetime] = utcnow, sandbox_sleep: Callable[[float], None] | None = None) -> None:
        # built here (engine, RQ jobs): never migrates, refuses a database that is behind
        self.db = db or open_database(settings.database_url)
        # before anything opens a sealed value: a wrong key is refused here, not found later as stuck work
        settings = keyring.secure_start(settings, self.db)
        self.settings, self.clock = settings, clock
        self.vault = Vault(settings.secret_key or "")
        self._sandbox_kwargs: dict[str, Any] = {"clock": clock}
        if sandbox_sleep is not None:
            self._sandbox_kwargs["sleep"] = sandbox_sleep
        self.publisher = Publisher(
            self.db, self.vault, RetryPolicy(settings.retry_delays, settings.max_attempts, settings.retry_jitter),
            self.adapter_for, clock)
        self.deliverer = Deliverer(
            self.db, self.vault,
            RetryPolicy(settings.webhook_retry_delays, len(settings.webhook_retry_delays) + 1, 0.2),
            netguard.URLPolicy(settings.webhook_allow_private, frozenset(settings.webhook_allowed_hosts)),
            clock, timeout=settings.webhook_timeout, disable_after=settings.webhook_disable_after,
            # one endpoint may hold half the delivery workers while others wait
            max_in_flight=max(1, settings.workers // 2))
        #: this process's lease owner, registered when it starts a scheduler or runs its first RQ job
        self.leases = Leases(self.db, clock, lease_seconds=settings.lease_seconds,
                             owner_timeout=settings.owner_timeout)
        self._bell: wake.Bell | None = None
        self.keeper = Keeper(self.db, self.vault, clock, self.oauth_client)
        self.dispatcher: Dispatcher | None = None
        self.scheduler: Scheduler | None = None
        self.listener: wake.Listener | None = None
        self._thread: threading.Thread | None = None

    def adapter_for(self, account: dict[str, Any]) -> platforms.Platform:
        """The adapter that publishes for an account: the sandbox for sandbox accounts."""
        real = platforms.get(account["platform"])
        if account["mode"] == "sandbox":
            return Sandbox(real, self.db, global_faults=dict(self.settings.sandbox_faults), **self._sandbox_kwargs)
        # renewed credentials are stored (sealed) before use, one renewal per account for every worker
        real.renewer = self.keeper.renewer(real)
        real.on_credentials = self.keeper.save
        real.clock = lambda: self.clock().timestamp()  # token expiries and retry hints on the engine's clock
        return real

    def oauth_client(self, platform: str) -> ClientApp | None:
        """Our OAuth app on `platform`, when configured (token refreshes authenticate as it)."""
        return oauth_client(self.settings, platform)

    def make_dispatcher(self) -> Dispatcher:
        """Threads in embedded mode, RQ when POSTDODO_REDIS_URL is set."""
        if self.settings.redis_url:
            return RQDispatcher(self.settings.redis_url, batch=self.settings.claim_batch,
                                job_timeout=job_timeout(self.settings.lease_seconds))
        kick = lambda: self.scheduler.kick() if self.scheduler else None  # noqa: E731
        if self.publisher.group_commit is None:
            # the pool's threads would otherwise queue on the one writer, a commit per attempt; the
            # sandbox platform gets its own, as a real platform commits apart from us
            self.publisher.group_commit = GroupCommit(self.db)
            self._sandbox_kwargs["group_commit"] = GroupCommit(self.db)
        return ThreadDispatcher({"publish": self.publish, "deliver": self.deliver, "refresh": self.keeper.refresh_ahead},
                                self.settings.workers, on_done=kick)

    def publish(self, target_id: str, attempt: int) -> str:
        """One publish attempt under its lease (held from the start, renewed while it runs)."""
        return self.leases.run("publish", self.publisher.run, target_id, attempt)

    def deliver(self, delivery_id: str, attempt: int) -> str:
        """One delivery attempt under its lease."""
        return self.leases.run("deliver", self.deliverer.run, delivery_id, attempt)

    def start_worker(self) -> None:
        """Be an RQ worker's runtime: register its lease owner (once) for the jobs it runs."""
        self.leases.start("worker")

    def job_done(self) -> None:
        """An RQ job ended: a worker is free, so wake the engine to claim (it claims only what workers can take)."""
        if self._bell is None:
            self._bell = wake.bell(self.settings)
        self._bell.ring()

    def start(self) -> Scheduler:
        """Run the scheduler (and, embedded, the worker pools) on background threads."""
        self.dispatcher = self.make_dispatcher()
        # embedded, the rows this process claimed wait in its own pools: renewed while they wait; with RQ they
        # wait in Redis, whose loss only their lease's end reveals, so they are renewed once a worker holds them
        pools = self.dispatcher if isinstance(self.dispatcher, ThreadDispatcher) else None
        self.leases.start("engine", queued=pools.outstanding if pools else None)
        self.scheduler = Scheduler(self.db, self.dispatcher, self.clock, lease_seconds=self.settings.lease_seconds,
                                   tick_seconds=self.settings.tick_seconds, batch=self.settings.claim_batch,
                                   retention=retention_of(self.settings), leases=self.leases,
                                   tokens=self.token_sweep())
        self._thread = threading.Thread(target=self.scheduler.run, name="postdodo-scheduler", daemon=True)
        self._thread.start()
        self.listener = wake.listen(self.settings, self.scheduler.kick)  # API processes ring it (engine/wake.py)
        log.info("engine started (%s)", "RQ dispatch" if self.settings.redis_url else
                 f"{self.settings.workers} in-process workers")
        return self.scheduler

    def token_sweep(self) -> TokenSweep:
        """The refresh-ahead pass the scheduler runs."""
        return TokenSweep(self.db, self.vault, self.clock, self.oauth_client,
                          warn_days=self.settings.account_expiring_days)

    def kick(self) -> None:
        """Wake the scheduler if this process runs one."""
        if self.scheduler:
            self.scheduler.kick()

    def stop(self, grace: float = 30.0) -> int:
        """Stop claiming, give running jobs `grace` seconds, hand back the rest; returns how many still run."""
        if self.listener:
            self.listener.close()
            self.listener = None
        if self.scheduler:
            self.scheduler.stop()
        if self._thread:
            self._thread.join(timeout=10)
        left = self.dispatcher.close(grace) if self.dispatcher else Unfinished()
        if self.scheduler and (left.queued or left.running):
            # without this the rows stay leased for POSTDODO_LEASE_SECONDS after a restart
            count = self.scheduler.hand_back(left)
            log.info("handed back %d claimed rows (%d not started, %d still running after %.0fs)",
                     count, len(left.queued), len(left.running), grace)
        self.leases.stop()
        for committer in (self.publisher.group_commit, self._sandbox_kwargs.pop("group_commit", None)):
            if committer is not None:
                committer.close()
        self.publisher.group_commit = None
        return len(left.running)


def retention_of(settings: Settings) -> Retention:
    """The retention rules of these settings."""
    return Retention(idempotency_seconds=settings.idempotency_ttl,
                     events_seconds=settings.retention_events_days * DAY,
                     attempt_bodies_seconds=settings.retention_attempt_bodies_days * DAY)


_runtime: Runtime | None = None
_lock = threading.Lock()


def process_runtime() -> Runtime:
    """The runtime of this worker process, built from the environment on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime(Settings.from_env())
            _runtime.start_worker()
        return _runtime
