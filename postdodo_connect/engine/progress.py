"""An attempt's platform state, kept on its target: saved handles (sealed) and when its platform call started."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ..errors import PlatformError
from ..models import format_time
from ..platforms import Platform, Progress
from ..storage import Vault, work

#: error codes after which the post may exist on the platform: settle that before publishing again
UNKNOWN_CODES = frozenset({"outcome_unknown", "lease_expired", "platform_timeout", "reconcile_pending"})


class AttemptLost(Exception):
    """This attempt no longer owns its target (taken back or canceled): stop before the next platform call."""


class TargetProgress(Progress):
    """`Progress` that writes every save and call start to the target before the adapter goes on."""

    def __init__(self, target: dict[str, Any], attempt: int, vault: Vault, clock: Callable[[], datetime],
                 record: Callable[[Callable[[Connection], bool]], bool]) -> None:
        started = target.get("call_started_at")
        super().__init__(vault.open_json(target.get("platform_state")), started.timestamp() if started else None)
        self.target_id, self.attempt, self.vault, self.clock, self.record = target["id"], attempt, vault, clock, record
        self.called = False  # whether this attempt started the call that may create the post
        # set when re-sending within the idempotency horizon: the horizon and the lookup window keep counting
        # from the first call that may have created the post, not from this one
        self.keep_start = False

    def calling(self, now: float) -> None:
        """Stamped with the engine's clock (the one reconcile and the reaper compare against)."""
        self.called = True
        if not (self.keep_start and self.call_started is not None):
            self.call_started = self.clock().timestamp()
        self.persist()

    def persist(self) -> None:
        """Commit state and call start before returning: a kill -9 right after still resumes from them."""
        sealed = self.vault.seal_json(self.state) if self.state else None
        started = datetime.fromtimestamp(self.call_started, self.clock().tzinfo) if self.called and self.call_started else None
        now = self.clock()
        if not self.record(lambda conn: work.save_progress(conn, self.target_id, self.attempt, now,
                                                           platform_state=sealed, call_started_at=started)):
            raise AttemptLost(self.target_id)

    def evidence(self) -> dict[str, Any]:
        """What an unknown outcome is reported with: when the call started and the handles the attempt saved."""
        started = datetime.fromtimestamp(self.call_started, self.clock().tzinfo) if self.call_started else None
        return {"call_started_at": format_time(started) if started else None, "handles": dict(self.state)}


def settle_unknown(adapter: Platform, account: Any, progress: Progress, now: datetime) -> str:
    """What to do about a create whose outcome is unknown: "publish" again, "lookup", or "unknown" (give up)."""
    # (a call that never started is never an unknown outcome: the reaper and the publisher retry it plainly;
    # no call start on record here means a target from before starts were recorded: assume it ran)
    if progress.call_started is not None and now.timestamp() - progress.call_started < adapter.horizon(account):
        return "publish"  # within the platform's idempotency horizon a repeat returns the original post
    return "lookup" if adapter.can_lookup(account) else "unknown"


def error_record(exc: PlatformError) -> dict[str, Any]:
    """A platform error as a target (or its comment, or a thread item) keeps it."""
    return {"code": exc.code, "message": exc.message, "retryable": exc.retryable, "platform_error": exc.platform_error}
