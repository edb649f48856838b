"""One publish attempt per job: call the platform, classify the outcome, record it with its event."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection

from ..errors import OutcomeUnknown, PlatformAuthError, PlatformError, StillProcessing
from ..models import format_time
from ..platforms import Account, Media, Platform, Published, PublishRequest
from ..storage import Database, Vault, work
from ..storage import accounts as accounts_store
from ..storage import posts as posts_store
from ..storage import threads as threads_store
from ..storage.events import emit
from ..storage.group_commit import GroupCommit, commit
from ..storage.unpublish import comment_due
from .commenter import post_comment
from .metrics import observe_publish
from .progress import UNKNOWN_CODES, AttemptLost, TargetProgress, error_record, settle_unknown
from .retry import RetryPolicy
from .threader import post_thread_item, thread_summary
from .unpublisher import unpublish

log = logging.getLogger("postdodo.publisher")


T = TypeVar("T")
#: the shortest wait before re-checking processing (a platform hint of 0 must not spin)
MIN_CHECK = 1.0

AdapterFor = Callable[[dict[str, Any]], Platform]


class Publisher:
    """Runs publish attempts; the same code under threads and RQ workers."""

    def __init__(self, db: Database, vault: Vault, policy: RetryPolicy, adapter_for: AdapterFor,
                 clock: Callable[[], datetime], *, group_commit: GroupCommit | None = None) -> None:
        self.db, self.vault, self.policy, self.adapter_for, self.clock = db, vault, policy, adapter_for, clock
        self.group_commit = group_commit

    def account(self, account_row: dict[str, Any]) -> Account:
        """What an adapter is handed of an account row: its credentials opened from the vault."""
        return Account(id=account_row["id"], platform=account_row["platform"], handle=account_row["handle"],
                       credentials=self.vault.open_json(account_row["credentials"]),
                       settings=account_row["settings"] or {})

    def record(self, outcome: Callable[[Connection], T]) -> T:
        """Write an attempt's outcome; with a group committer, in a transaction shared with other threads'."""
        return commit(self.db, outcome, self.group_commit)

    def run(self, target_id: str, attempt: int) -> str:
        """Make attempt number `attempt` of a target; returns the status it left the target in."""
        with self.db.read() as conn:
            target = work.load_target(conn, target_id)
            account_row = accounts_store.load_account(conn, target["account_id"]) if target else None
        if target is None or target["attempts"] != attempt or target["status"] not in ("publishing", "unpublishing",
                                                                                           "confirmed"):
            return "skipped"  # a stale job: canceled, or re-claimed after its lease ran out
        assert account_row is not None
        if target["status"] != "publishing":  # follow-up work runs leased; unleased means a stale publish job
            if target["lease_until"] is None:
                return "skipped"
            if target["status"] == "unpublishing":
                return unpublish(self, target, account_row, attempt)
            if threads_store.pending(target.get("thread")):  # the thread first, then the first comment
                return post_thread_item(self, target, account_row, attempt)
            return post_comment(self, target, account_row, attempt)
        started = time.perf_counter()
        status = self._attempt(target, account_row, attempt)
        observe_publish(target["platform"], status, time.perf_counter() - started)
        return status

    def _attempt(self, target: dict[str, Any], account_row: dict[str, Any], attempt: int) -> str:
        """Publish (or reconcile, or check processing) a claimed target and record the outcome; returns its new status."""
        target_id = target["id"]
        if account_row["status"] != "active":
            return self._fail(target, attempt, {"code": f"account_{account_row['status']}", "retryable": False,
                                                "message": f"account {account_row['id']} is {account_row['status']}"})
        adapter = self.adapter_for(account_row)
        account = self.account(account_row)
        progress = TargetProgress(target, attempt, self.vault, self.clock, self.record)
        request = _request(target, attempt, progress)
        try:
            return self._publish(target, attempt, adapter, account, request, progress)
        except AttemptLost:
            return "lost"  # taken back or canceled meanwhile: whoever owns it now records the outcome
        except StillProcessing as exc:
            return self._processing(target, attempt, exc)
        except PlatformAuthError as exc:
            return self._fail(target, attempt, error_record(exc), expire_account=True)
        except PlatformError as exc:
            if exc.retryable:
                return self._retry(target, attempt, exc)
            return self._fail(target, attempt, error_record(exc))
        except Exception as exc:  # an adapter bug: if its platform call had started, the post may exist
            log.exception("publish of %s raised unexpectedly", target_id)
            unknown = OutcomeUnknown(f"internal error: {exc.__class__.__name__}", code="outcome_unknown")
            if progress.called and settle_unknown(adapter, account, progress, self.clock()) == "unknown":
                return self._fail(target, attempt, _unknown_error(unknown, progress))
            return self._retry(target, attempt, unknown if progress.called else
                               PlatformError(unknown.message, code="internal_error", retryable=True))

    def _publish(self, target: dict[str, Any], attempt: int, adapter: Platform, account: Account,
                 request: PublishRequest, progress: TargetProgress) -> str:
        """Reconcile an earlier unknown outcome if needed, then publish (resuming from the saved handles)."""
        if (target.get("error") or {}).get("code") in UNKNOWN_CODES:
            # an earlier attempt may have created the post: settle that before publishing again
            found = self._reconcile(target, attempt, adapter, account, request, progress)
            if isinstance(found, str):
                return found
            if found is not None:
                return self._confirm(target, attempt, found)
        try:
            return self._confirm(target, attempt, adapter.publish(account, request))
        except OutcomeUnknown as exc:
            if progress.call_started is None:  # an adapter that does not mark its call: assume it started now
                progress.calling(0.0)
            found = self._reconcile(target, attempt, adapter, account, request, progress, exc)
            if isinstance(found, str):
                return found
            if found is not None:
                return self._confirm(target, attempt, found)
            return self._retry(target, attempt, exc)

    def _reconcile(self, target: dict[str, Any], attempt: int, adapter: Platform, account: Account,
                   request: PublishRequest, progress: TargetProgress,
                   cause: OutcomeUnknown | None = None) -> Published | str | None:
        """The post if the platform has it, None if publishing (again) is safe, or the status we settled on."""
        verdict = settle_unknown(adapter, account, progress, self.clock())
        if verdict == "publish":
            progress.keep_start = True  # a re-send within the horizon: the first call's start still counts
            return None
        if verdict == "unknown":
            # no way to know: failing, with what we know, beats risking a duplicate post
            return self._fail(target, attempt, _unknown_error(cause, progress))
        try:
            return adapter.lookup(account, request)
        except (StillProcessing, AttemptLost, PlatformAuthError):
            raise
        except PlatformError as exc:
            if not exc.retryable:  # the platform cannot tell (e.g. TikTok without a publish_id)
                return self._fail(target, attempt, _unknown_error(exc, progress))
            return self._retry(target, attempt, exc, code="reconcile_pending")

    def _processing(self, target: dict[str, Any], attempt: int, exc: StillProcessing) -> str:
        """Come back when the platform says; past the platform's processing budget, fail clearly."""
        now = self.clock()
        since = target.get("processing_since") or now
        waited = (now - since).total_seconds()
        if waited >= exc.budget:
            return self._fail(target, attempt, {
                "code": "processing_timeout", "platform_error": exc.platform_error,
                "message": f"{exc.message}; still processing after {waited:.0f} s (the platform allows {exc.budget:.0f} s)"})
        check_at = now + timedelta(seconds=min(max(exc.check_after, MIN_CHECK), exc.budget - waited + MIN_CHECK))
        if not self.record(lambda conn: work.await_processing(conn, target["id"], attempt, now, check_at=check_at,
                                                               since=since)):
            return "lost"
        return "processing"

    def _confirm(self, target: dict[str, Any], attempt: int, found: Published) -> str:
        now = self.clock()

        def record(conn: Connection) -> str:
            if not work.finish_target(conn, target["id"], attempt, now, status="confirmed", error=None,
                                      permalink=found.permalink, platform_post_id=found.platform_post_id,
                                      next_attempt_at=None):
                return "lost"
            thread = target.get("thread")
            self._event(conn, target, "post.published", now, status="confirmed", permalink=found.permalink,
                        platform_post_id=found.platform_post_id,
                        **({"thread": thread_summary(thread) | {"status": thread["status"]}} if thread else {}))
            if threads_store.pending(thread):
                threads_store.thread_due(conn, target["id"], attempt, now)  # item by item, each its own job
            elif (target.get("first_comment") or {}).get("status") == "pending":
                comment_due(conn, target["id"], attempt, now)  # its own job: the post is confirmed whatever it meets
            posts_store.refresh_status(conn, target["post_id"], now)
            return "confirmed"

        return self.record(record)

    def _retry(self, target: dict[str, Any], attempt: int, exc: PlatformError, *, code: str | None = None) -> str:
        error = error_record(exc) | {"code": code or exc.code, "retryable": True}
        # checks of a processing target are not publish attempts: they have their own budget
        tries = attempt - (target.get("processing_checks") or 0)
        delay = self.policy.next_delay(tries, exc.retry_after)
        if delay is None:
            return self._fail(target, attempt, error | {"message": f"gave up after {tries} attempts: {exc.message}"})
        now = self.clock()
        next_at = now + timedelta(seconds=delay)

        def record(conn: Connection) -> str:
            if not work.finish_target(conn, target["id"], attempt, now, status="retrying", error=error,
                                      next_attempt_at=next_at):
                return "lost"
            self._event(conn, target, "post.retrying", now, status="retrying", attempts=tries,
                        next_attempt_at=format_time(next_at), error=error)
            return "retrying"

        return self.record(record)

    def _fail(self, target: dict[str, Any], attempt: int, error: dict[str, Any], *, expire_account: bool = False) -> str:
        now = self.clock()
        error = {"retryable": False, "platform_error": None} | error

        def record(conn: Connection) -> str:
            if not work.finish_target(conn, target["id"], attempt, now, status="failed", error=error,
                                      next_attempt_at=None):
                return "lost"
            self._event(conn, target, "post.failed", now, status="failed", error=error)
            if expire_account and accounts_store.set_account_status(conn, target["account_id"], "expired"):
                emit(conn, target["workspace_id"], "account.disconnected", {
                    "account_id": target["account_id"], "platform": target["platform"], "reason": "auth_expired",
                    "message": error.get("message")}, now=now)
            posts_store.refresh_status(conn, target["post_id"], now)
            return "failed"

        return self.record(record)

    @staticmethod
    def _event(conn: Connection, target: dict[str, Any], event_type: str, now: datetime, **data: Any) -> None:
        emit(conn, target["workspace_id"], event_type, {
            "post_id": target["post_id"], "account_id": target["account_id"], "platform": target["platform"],
            **data}, post_id=target["post_id"], now=now)


def _request(target: dict[str, Any], attempt: int, progress: TargetProgress) -> PublishRequest:
    """What the adapter publishes: the target's own content (its versions applied), or the post's for older targets."""
    content = target.get("content") or {"caption": target["caption"], "media": target["media"] or ()}
    return PublishRequest(
        target_id=target["id"], caption=content["caption"], attempt=attempt, progress=progress,
        media=tuple(Media(type=m.get("type", "image"), url=m["url"], alt=m.get("alt") or "") for m in content["media"]),
        options=content.get("options") or {}, first_comment=content.get("first_comment"))



def _unknown_error(cause: PlatformError | None, progress: TargetProgress) -> dict[str, Any]:
    detail = f"{cause.message}; " if cause else ""
    return {"code": "outcome_unknown", "retryable": False,
            "message": f"{detail}the post may exist on the platform: check before reposting",
            "platform_error": {"evidence": progress.evidence(), "error": cause.platform_error if cause else None}}
