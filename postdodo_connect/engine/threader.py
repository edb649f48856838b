"""One thread-item attempt per job, on a confirmed target: items go out in order as replies, none ever twice.

Each item keeps its own handles and call start in its slot of `targets.thread`, written before the platform
call, so an attempt that dies mid-call (kill -9, an expired lease) is settled by the platform's lookup (or
its idempotency horizon) on the next attempt instead of being posted again. The first post stays `confirmed`
whatever the thread meets.
"""

from __future__ import annotations

import copy
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from ..errors import OutcomeUnknown, PlatformError, StillProcessing
from ..platforms import Account, Media, Platform, Progress, Published, PublishRequest, ReplyTo
from ..storage import threads as store
from ..storage.unpublish import finish_follow_up
from .progress import UNKNOWN_CODES, AttemptLost, error_record, settle_unknown

if TYPE_CHECKING:
    from .publisher import Publisher

log = logging.getLogger("postdodo.threader")
#: what the record keeps of an item's in-flight call (dropped once the item's outcome is known)
IN_FLIGHT = ("call_started_at", "call_attempt", "state", "processing_since")


class ItemProgress(Progress):
    """`Progress` kept in the item's slot of the thread record, committed before the adapter goes on."""

    def __init__(self, publisher: Publisher, target_id: str, thread: dict[str, Any], index: int, attempt: int) -> None:
        item = thread["items"][index]
        super().__init__(publisher.vault.open_json(item.get("state")), item.get("call_started_at"))
        self.publisher, self.target_id, self.thread, self.index, self.attempt = publisher, target_id, thread, index, attempt
        self.called = False  # whether this attempt started the call that may create the item
        self.keep_start = False  # re-sending within the idempotency horizon: the first call's start still counts

    def calling(self, now: float) -> None:
        """Stamped with the engine's clock (the one reconcile compares against)."""
        self.called = True
        if not (self.keep_start and self.call_started is not None):
            self.call_started = self.publisher.clock().timestamp()
        self.persist()

    def persist(self) -> None:
        """Commit handles and call start into the thread record; a lost attempt stops before the next call."""
        item = self.thread["items"][self.index]
        item["state"] = self.publisher.vault.seal_json(self.state) if self.state else None
        if self.called:
            item["call_started_at"], item["call_attempt"] = self.call_started, self.attempt
        now, snapshot = self.publisher.clock(), copy.deepcopy(self.thread)
        if not self.publisher.record(lambda conn: store.save_thread(conn, self.target_id, self.attempt, now, snapshot)):
            raise AttemptLost(self.target_id)


class ItemAttempt:
    """One attempt at the first unpublished item of a confirmed target's thread."""

    def __init__(self, publisher: Publisher, target: dict[str, Any], account_row: dict[str, Any], attempt: int) -> None:
        self.publisher, self.target, self.account_row, self.attempt = publisher, target, account_row, attempt
        self.thread: dict[str, Any] = copy.deepcopy(target["thread"])
        self.content: dict[str, Any] = target.get("content") or {}
        self.index = first_unpublished(self.thread)
        #: set once this attempt settles an earlier call or meets an unknown outcome: a retry must reconcile
        self.unsure = False

    @property
    def item(self) -> dict[str, Any]:
        """The item this attempt posts."""
        return dict(self.thread["items"][self.index])

    def run(self) -> str:
        """Post the item (or settle it) and record the outcome; returns the thread's status after it."""
        specs = self.content.get("thread") or []
        if not store.pending(self.thread) or not 0 <= self.index < len(specs) or not self.target["platform_post_id"]:
            self.thread["status"] = "published" if self.index < 0 else self.thread["status"]
            return self._record(None, next_item=True)  # nothing (left) to do: release the lease
        progress = ItemProgress(self.publisher, self.target["id"], self.thread, self.index, self.attempt)
        try:
            if self.account_row["status"] != "active":
                raise PlatformError(f"account {self.account_row['id']} is {self.account_row['status']}",
                                    code=f"account_{self.account_row['status']}")
            adapter = self.publisher.adapter_for(self.account_row)
            account = self.publisher.account(self.account_row)
            found = self._publish(adapter, account, self._request(specs[self.index], progress), progress)
        except AttemptLost:
            # unpublished meanwhile: no call starts after this, and one that started is on record (its start is
            # saved before it), so the delete can settle it; hand the lease over now instead of letting it run out
            now = self.publisher.clock()
            self.publisher.record(lambda conn: finish_follow_up(conn, self.target["id"], self.attempt, now))
            return "lost"
        except StillProcessing as exc:  # the item's media are processing: come back when the platform says
            return self._processing(exc)
        except PlatformError as exc:
            return self._retry(exc, hint=exc.retry_after) if exc.retryable else self._fail(error_record(exc))
        except Exception as exc:  # an adapter bug: if its call had started, the item may exist
            log.exception("thread item %s of %s raised unexpectedly", self.index, self.target["id"])
            self.unsure = self.unsure or progress.called
            return self._retry(PlatformError(f"internal error: {exc.__class__.__name__}", code="internal_error",
                                             retryable=True))
        if found is None:  # no lookup and past the horizon: failing beats a duplicate
            return self._fail({"code": "outcome_unknown", "retryable": False, "platform_error": None,
                               "message": "the item may exist on the platform: check before reposting"})
        return self._published(found)

    def _request(self, spec: dict[str, Any], progress: Progress) -> PublishRequest:
        """The item as a reply: to the first post (root) and the item before it (parent), under its own stable key."""
        root = Published(platform_post_id=self.target["platform_post_id"], permalink=self.target["permalink"] or "")
        before = self.thread["items"][self.index - 1] if self.index else None
        parent = root if before is None else Published(platform_post_id=before["platform_post_id"],
                                                      permalink=before.get("permalink") or "", cid=before.get("cid") or "")
        return PublishRequest(
            target_id=f"{self.target['id']}.thread.{self.index + 1}", caption=spec.get("caption", ""),
            media=tuple(Media(type=m.get("type", "image"), url=m["url"], alt=m.get("alt") or "")
                        for m in spec.get("media") or ()),
            attempt=self.attempt - (self.target.get("processing_checks") or 0),
            options=self.content.get("options") or {}, reply_to=ReplyTo(root=root, parent=parent), progress=progress)

    def _publish(self, adapter: Platform, account: Account, request: PublishRequest,
                 progress: ItemProgress) -> Published | None:
        """Settle an earlier attempt's call first, then publish; None when the outcome cannot be known."""
        item = self.item
        if (item.get("error") or {}).get("code") in UNKNOWN_CODES or item.get("call_attempt") not in (None, self.attempt):
            safe, found = self._settle(adapter, account, request, progress)
            if not safe:
                return found
        try:
            return adapter.publish(account, request)
        except OutcomeUnknown:
            if progress.call_started is None:
                progress.calling(0.0)
            safe, found = self._settle(adapter, account, request, progress)
            if not safe:
                return found
            raise

    def _settle(self, adapter: Platform, account: Account, request: PublishRequest,
                progress: ItemProgress) -> tuple[bool, Published | None]:
        """(True, None) when (re)publishing is safe; else (False, the item the platform has, or None: nobody can tell)."""
        self.unsure = True
        verdict = settle_unknown(adapter, account, progress, self.publisher.clock())
        if verdict == "publish":
            progress.keep_start = True
            return True, None
        if verdict == "unknown":
            return False, None
        found = adapter.lookup(account, request)
        return found is None, found

    def _published(self, found: Published) -> str:
        items = self.thread["items"]
        items[self.index] = {"status": "published", "platform_post_id": found.platform_post_id,
                             "permalink": found.permalink or None, **({"cid": found.cid} if found.cid else {})}
        if self.index + 1 < len(items):
            return self._record(self.publisher.clock(), next_item=True, result="published")
        self.thread["status"] = "published"
        return self._record(None, next_item=True, event="post.thread_published")

    def _retry(self, exc: PlatformError, *, hint: float | None = None) -> str:
        tries = self.attempt - (self.target.get("processing_checks") or 0)
        delay = self.publisher.policy.next_delay(tries, hint)
        error = error_record(exc) | {"retryable": True}
        if delay is None:
            return self._fail(error | {"retryable": False, "message": f"gave up after {tries} attempts: {exc.message}"})
        item = self.thread["items"][self.index]
        if self.unsure or isinstance(exc, OutcomeUnknown):
            # the item may exist: the next attempt settles that before posting again
            error["code"] = error["code"] if error["code"] in UNKNOWN_CODES else "reconcile_pending"
        else:
            for name in ("call_started_at", "call_attempt"):  # the platform said no: a plain retry
                item.pop(name, None)
        item["error"] = error
        return self._record(self.publisher.clock() + timedelta(seconds=delay), next_item=False, result="pending")

    def _processing(self, exc: StillProcessing) -> str:
        """A check that is no try of the item: due again when the platform says, within its processing budget."""
        now = self.publisher.clock()
        item = self.thread["items"][self.index]
        since = item.setdefault("processing_since", now.timestamp())
        if now.timestamp() - since >= exc.budget:
            return self._fail({"code": "processing_timeout", "platform_error": exc.platform_error,
                               "message": f"{exc.message}; still processing after {exc.budget:.0f} s"})
        item["error"] = None
        next_at = now + timedelta(seconds=max(exc.check_after, 1.0))
        return self._record(next_at, next_item=False, result="pending", check_only=True)

    def _fail(self, error: dict[str, Any]) -> str:
        item = self.thread["items"][self.index]
        for name in IN_FLIGHT:
            item.pop(name, None)
        item.update(status="failed", error={"retryable": False, "platform_error": None} | error)
        self.thread["status"] = "failed"
        return self._record(None, next_item=True, event="post.thread_failed")

    def _record(self, next_at: Any, *, next_item: bool, event: str | None = None, result: str | None = None,
                check_only: bool = False) -> str:
        """Write the record; a finished thread hands over to a pending first comment."""
        now, thread, target = self.publisher.clock(), self.thread, self.target
        if next_at is None and (target.get("first_comment") or {}).get("status") == "pending" \
                and not store.pending(thread):
            next_at = now  # the comment comes after the thread, in its own job

        def record(conn: Connection) -> str:
            if not store.finish_item(conn, target["id"], self.attempt, now, thread=thread, next_attempt_at=next_at,
                                     next_item=next_item, check_only=check_only):
                return "lost"
            if event is not None:
                store.thread_event(conn, target, event, now, status=thread["status"], **thread_summary(thread))
            return result or str(thread["status"])

        return self.publisher.record(record)


def first_unpublished(thread: dict[str, Any]) -> int:
    """The index of the thread's first item not yet published, -1 when all are."""
    return next((i for i, item in enumerate(thread.get("items") or ()) if item["status"] != "published"), -1)


def thread_summary(thread: dict[str, Any]) -> dict[str, Any]:
    """What a thread event says: how far it got, each item's id and link, and the failed item's error."""
    items = thread["items"]
    data: dict[str, Any] = {"published": sum(1 for i in items if i.get("platform_post_id")), "total": len(items),
                            "items": [{"status": i["status"], "platform_post_id": i.get("platform_post_id"),
                                       "permalink": i.get("permalink")} for i in items]}
    failed = next((n for n, i in enumerate(items) if i["status"] == "failed"), None)
    if failed is not None:
        data |= {"failed_item": failed, "error": items[failed].get("error")}
    return data


def find_item(publisher: Publisher, target: dict[str, Any], account_row: dict[str, Any], adapter: Platform,
              account: Account) -> Published | None | str:
    """The first pending item of an unpublished target, if its create may have reached the platform (a call
    start on record): the item the platform has, None when it was never posted, "unknown" when nobody can tell.

    Settled as the publish path does: within the idempotency horizon the create is sent again under its key
    (answering with the original if it exists), beyond it the platform is searched.
    """
    attempt = ItemAttempt(publisher, target, account_row, target["attempts"])
    specs = attempt.content.get("thread") or []
    if not 0 <= attempt.index < len(specs) or attempt.item.get("call_started_at") is None:
        return None
    item = attempt.item
    progress = Progress(publisher.vault.open_json(item.get("state")), item["call_started_at"])
    request = attempt._request(specs[attempt.index], progress)
    verdict = settle_unknown(adapter, account, progress, publisher.clock())
    if verdict == "unknown":
        return verdict
    return adapter.publish(account, request) if verdict == "publish" else adapter.lookup(account, request)


def post_thread_item(publisher: Publisher, target: dict[str, Any], account_row: dict[str, Any], attempt: int) -> str:
    """Post the next item of a confirmed target's thread; returns "published"/"failed" (the thread's) or "pending"."""
    return ItemAttempt(publisher, target, account_row, attempt).run()
