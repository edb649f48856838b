"""The in-process sandbox platform: any real platform's rules and permalinks, faults on demand.

Its knobs reach the engine's real paths: `latency_ms` per platform call, `processing_seconds` of media
processing (an upload, then "still processing" checks), `no_lookup` and `idempotency_seconds` for how an
ambiguous create can be settled.

What it "publishes" goes to its own table in its own transaction, like a real platform's database:
it survives a crash of the engine, every process sees it, and tests can count posts per account.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import delete, insert, select

from ..errors import (
    OutcomeUnknown,
    PlatformAuthError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    StillProcessing,
)
from ..models import SandboxFaults
from ..storage import Database, new_id, utcnow
from ..storage.group_commit import GroupCommit, commit
from ..storage.prepared import Prepared
from ..storage.schema import sandbox_posts
from .base import Account, Platform, Published, PublishRequest

_INSERT = Prepared(insert(sandbox_posts), columns=(
    "id", "account_id", "platform", "reference", "caption", "media", "permalink", "platform_post_id", "created_at"))


class Sandbox(Platform):
    """Publishes as platform `real.name` without leaving the machine."""

    has_lookup = True

    def __init__(self, real: Platform, db: Database, *, global_faults: dict[str, Any] | None = None,
                 rng: random.Random | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], datetime] = utcnow, group_commit: GroupCommit | None = None) -> None:
        super().__init__(session=None)
        self.real, self.db, self.group_commit = real, db, group_commit
        self.name, self.label = real.name, real.label  # type: ignore[misc]
        self.can_delete = real.can_delete  # type: ignore[misc]
        self.has_first_comment = real.has_first_comment  # type: ignore[misc]
        self.comment_is_post = real.comment_is_post  # type: ignore[misc]
        self.has_thread = real.has_thread  # type: ignore[misc]
        self.global_faults = global_faults or {}
        self.rng = rng or random.Random()
        self.sleep, self.now = sleep, clock

    def validate(self, caption: str, media: Any) -> Any:
        """The real platform's preflight rules."""
        return self.real.validate(caption, media)

    def faults(self, account: Account) -> SandboxFaults:
        """Global faults overridden by the account's own."""
        return SandboxFaults.model_validate(self.global_faults | account.settings.get("faults", {}))

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def can_lookup(self, account: Account) -> bool:
        """False when the account plays a platform without a lookup."""
        return not self.faults(account).no_lookup

    def horizon(self, account: Account) -> float:
        """The account's idempotency horizon."""
        return self.faults(account).idempotency_seconds

    def _call(self, faults: SandboxFaults) -> None:
        if faults.latency_ms:
            self.sleep(faults.latency_ms / 1000)  # simulated network time of one platform call

    def _process(self, faults: SandboxFaults, request: PublishRequest) -> None:
        """Upload the media once, then answer "still processing" until `processing_seconds` have passed."""
        now = self.now().timestamp()
        ready, media_id = request.state.get("ready_at"), request.state.get("media_id")
        self._call(faults)  # the upload, or the status check
        if ready is None or media_id is None:
            ready, media_id = now + faults.processing_seconds, new_id("sbxm", 12)
            request.save(media_id=media_id, ready_at=ready)
        if now < ready:
            raise StillProcessing(f"{self.label}: media {media_id} is still processing",
                                  check_after=ready - now, budget=self.real.processing_budget,
                                  platform_error={"media_id": media_id})

    def publish(self, account: Account, request: PublishRequest) -> Published:
        """Publish into the sandbox table (a thread item too, under its own key), unless a fault strikes first."""
        if request.reply_to is not None and not self.has_thread:
            raise PlatformRejected(f"sandbox: {self.label} has no threads", code="thread_unsupported")
        faults = self.faults(account)
        if faults.processing_seconds and request.media:
            self._process(faults, request)
        self.calling(request)  # the request is on the wire from here: its latency counts as a call in flight
        self._call(faults)
        if faults.idempotency_seconds and (replay := self._replay(request, faults.idempotency_seconds)):
            return replay
        active = faults.fault_attempts == 0 or request.attempt <= faults.fault_attempts
        if active:
            if self._roll(faults.auth_error_rate):
                raise PlatformAuthError("sandbox: token expired", code="auth_expired",
                                        platform_error={"error": "invalid_token"})
            self._rate_limit_fault(faults)
            self._server_fault(faults)
            if self._roll(faults.reject_rate):
                raise PlatformRejected("sandbox: post rejected by policy", code="rejected",
                                       platform_error={"error": "content_policy"})
            if self._roll(faults.timeout_rate):
                raise OutcomeUnknown("sandbox: timed out", code="platform_timeout")
        published = self._commit(account, request)
        if active and self._roll(faults.commit_then_fail_rate):
            raise OutcomeUnknown("sandbox: 500 after the post was stored", code="platform_error",
                                 platform_error={"status": 500})
        return published

    def _rate_limit_fault(self, faults: SandboxFaults) -> None:
        """A 429 as often as the account's faults ask."""
        if self._roll(faults.rate_limit_rate):
            raise PlatformRateLimited("sandbox: rate limited", code="rate_limited", retry_after=faults.retry_after,
                                      platform_error={"error": "rate_limited", "retry_after": faults.retry_after})

    def _server_fault(self, faults: SandboxFaults) -> None:
        """A 503 as often as the account's faults ask."""
        if self._roll(faults.server_error_rate):
            raise PlatformUnavailable("sandbox: 503 service unavailable", code="platform_unavailable",
                                      platform_error={"status": 503})

    def _commit(self, account: Account, request: PublishRequest) -> Published:
        post_id = self.real.sample_post_id(new_id("sbx", 12))
        permalink = self.real.permalink(account.handle, post_id)
        row = {"id": new_id("sbx"), "account_id": account.id, "platform": self.name, "reference": request.target_id,
               "caption": request.caption, "media": [m.__dict__ for m in request.media], "permalink": permalink,
               "platform_post_id": post_id, "created_at": self.now()}
        # committed before returning, as a platform's answer means the post exists; under the embedded
        # engine's threads the commit is shared with other sandbox posts of the moment (its own transactions,
        # never the engine's)
        commit(self.db, partial(_INSERT.run, params=row), self.group_commit)
        return Published(platform_post_id=post_id, permalink=permalink)

    def comment(self, account: Account, platform_post_id: str, text: str) -> Published:
        """A first comment where the real platform has one (kept nowhere: only its answer matters)."""
        if not self.has_first_comment:
            return super().comment(account, platform_post_id, text)
        faults = self.faults(account)
        self._call(faults)
        self._server_fault(faults)
        comment_id = self.real.sample_post_id(new_id("sbxc", 12))
        return Published(platform_post_id=comment_id, permalink=self.real.permalink(account.handle, comment_id))

    def delete(self, account: Account, platform_post_id: str) -> None:
        """Remove the post from the sandbox table where the real platform could; its faults apply as to a publish."""
        if not self.can_delete:
            super().delete(account, platform_post_id)
        faults = self.faults(account)
        self._call(faults)
        self._rate_limit_fault(faults)
        self._server_fault(faults)
        with self.db.write() as conn:  # a post already gone is simply not there: done as well
            conn.execute(delete(sandbox_posts).where(sandbox_posts.c.account_id == account.id,
                                                     sandbox_posts.c.platform_post_id == platform_post_id))

    def lookup(self, account: Account, request: PublishRequest) -> Published | None:
        """The post an ambiguous attempt stored, if it did."""
        with self.db.read() as conn:
            row = conn.execute(select(sandbox_posts).where(sandbox_posts.c.reference == request.target_id)
                               .order_by(sandbox_posts.c.created_at).limit(1)).first()
        return Published(platform_post_id=row.platform_post_id, permalink=row.permalink) if row else None

    def _replay(self, request: PublishRequest, horizon: float) -> Published | None:
        """Like an Idempotency-Key: a repeat within the horizon answers with the original post."""
        found = self.lookup(Account(id="", platform=self.name, handle=""), request)
        if found is None:
            return None
        with self.db.read() as conn:
            created = conn.execute(select(sandbox_posts.c.created_at).where(
                sandbox_posts.c.platform_post_id == found.platform_post_id)).scalar_one()
        return found if (self.now() - created).total_seconds() < horizon else None


def sandbox_posts_for(db: Database, account_id: str) -> list[dict[str, Any]]:
    """Everything the sandbox published for one account (tests, demo)."""
    with db.read() as conn:
        rows = conn.execute(select(sandbox_posts).where(sandbox_posts.c.account_id == account_id)
                            .order_by(sandbox_posts.c.created_at))
        return [dict(r._mapping) for r in rows]
