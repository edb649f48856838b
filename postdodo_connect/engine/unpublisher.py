"""One unpublish attempt per job: delete the platform post, record the outcome with its `post.unpublished` event."""

from __future__ import annotations

import copy
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from ..errors import PlatformError, PlatformNotFound
from ..models import format_time
from ..platforms import Account, Platform, Published
from ..storage import posts as posts_store
from ..storage import unpublish as store
from .commenter import may_exist
from .progress import error_record
from .threader import IN_FLIGHT, find_item, first_unpublished

if TYPE_CHECKING:
    from .publisher import Publisher

log = logging.getLogger("postdodo.unpublisher")


def unpublish(publisher: Publisher, target: dict[str, Any], account_row: dict[str, Any], attempt: int) -> str:
    """Delete a leased `unpublishing` target's post (its thread items and self-reply comment first, last to
    first); returns the status it left the target in."""
    thread = copy.deepcopy(target.get("thread"))
    if thread is not None and thread.get("status") == "pending":
        thread["status"] = "canceled"  # the items not posted yet never will be
    comment = copy.deepcopy(target.get("first_comment"))
    #: what the outcome records besides the status: the thread's and the comment's own
    changes: dict[str, Any] = {name: value for name, value in (("thread", thread), ("first_comment", comment))
                               if value is not None}
    try:
        adapter = publisher.adapter_for(account_row)
        account = publisher.account(account_row)
        if thread is not None:
            _settle_in_flight(publisher, target, account_row, adapter, account, thread)
        for item in reversed((thread or {}).get("items") or []):
            if item.get("platform_post_id") and item["status"] == "published":
                _delete(adapter, account, item["platform_post_id"])  # replies before what they answer
                item["status"] = "unpublished"  # recorded with the outcome, even when a later delete fails
        if comment is not None and comment.get("status") == "pending":
            _settle_comment(publisher, target, adapter, account, comment)
        made = (comment or {}).get("platform_post_id") if (comment or {}).get("status") == "published" else None
        if adapter.comment_is_post and made:
            _delete(adapter, account, made)  # a self-reply outlives its parent otherwise
        adapter.delete(account, target["platform_post_id"])
    except PlatformNotFound:
        pass  # gone already (deleted by hand, say): what was asked
    except PlatformError as exc:
        error = error_record(exc)
        return _retry(publisher, target, attempt, exc, error, changes) if exc.retryable else _fail(
            publisher, target, attempt, error, changes)
    except Exception as exc:  # an adapter bug: a delete is safe to repeat, so it is retried like an outage
        log.exception("unpublish of %s raised unexpectedly", target["id"])
        failure = PlatformError(f"internal error: {exc.__class__.__name__}", code="internal_error", retryable=True)
        return _retry(publisher, target, attempt, failure, {"code": failure.code, "message": failure.message,
                                                             "retryable": True, "platform_error": None}, changes)
    return _record(publisher, target, attempt, "unpublished", None, changes)


def _retry(publisher: Publisher, target: dict[str, Any], attempt: int, exc: PlatformError,
           error: dict[str, Any], changes: dict[str, Any]) -> str:
    # processing_checks holds the attempts when the unpublish was asked: only deletes count here (at least
    # one: a follow-up job claimed just before the request runs the delete under the claim's own attempt)
    delay = publisher.policy.next_delay(max(1, attempt - (target.get("processing_checks") or 0)), exc.retry_after)
    if delay is None:
        return _fail(publisher, target, attempt, error | {"retryable": False,
                                                          "message": f"gave up unpublishing: {exc.message}"}, changes)
    now = publisher.clock()
    next_at = now + timedelta(seconds=delay)

    def record(conn: Connection) -> str:
        if not store.finish_unpublish(conn, target["id"], attempt, now, status="unpublishing", error=error,
                                      next_attempt_at=next_at, **changes):
            return "lost"
        return "unpublishing"

    log.info("unpublish of %s retries at %s: %s", target["id"], format_time(next_at), exc.code)
    return publisher.record(record)


def _fail(publisher: Publisher, target: dict[str, Any], attempt: int, error: dict[str, Any],
          changes: dict[str, Any]) -> str:
    """The post stays up: the target is `confirmed` again, with the error that kept it there."""
    return _record(publisher, target, attempt, "confirmed", error, changes)


def _record(publisher: Publisher, target: dict[str, Any], attempt: int, status: str,
            error: dict[str, Any] | None, changes: dict[str, Any]) -> str:
    now = publisher.clock()

    def record(conn: Connection) -> str:
        if not store.finish_unpublish(conn, target["id"], attempt, now, status=status, error=error, **changes):
            return "lost"
        outcome = {"status": "unpublished"} if error is None else {"status": "failed", "error": error}
        store.unpublished_event(conn, target, now, platform_post_id=target["platform_post_id"], **outcome)
        posts_store.refresh_status(conn, target["post_id"], now)
        return status

    return publisher.record(record)


def _settle_comment(publisher: Publisher, target: dict[str, Any], adapter: Platform, account: Account,
                    comment: dict[str, Any]) -> None:
    """A pending first comment is never posted now; a self-reply whose call may have landed (its attempt died)
    is found by sending it again within the platform's idempotency horizon (answered with the original), so the
    deletes take it down too; past it nobody can tell, and the comment says so."""
    started = comment.pop("call_started_at", None)
    if not adapter.comment_is_post or started is None:
        comment["status"] = "canceled"  # a comment on the post itself goes with it
    elif publisher.clock().timestamp() - started < adapter.horizon(account):
        made = adapter.comment(account, target["platform_post_id"], comment["text"])
        comment.update(status="published", platform_post_id=made.platform_post_id or None,
                       permalink=made.permalink or None, error=None)
    else:
        comment.update(status="failed", error=may_exist("check and delete it by hand"))


def _settle_in_flight(publisher: Publisher, target: dict[str, Any], account_row: dict[str, Any], adapter: Platform,
                      account: Account, thread: dict[str, Any]) -> None:
    """An item whose create may have reached the platform (its attempt died, or met an unknown outcome) is
    found and marked published, so the deletes below take it down too; one never posted stays pending."""
    index = first_unpublished(thread)
    if index < 0 or thread["items"][index]["status"] != "pending":
        return
    found = find_item(publisher, target, account_row, adapter, account)
    item = thread["items"][index]
    if found == "unknown":  # no lookup and past the horizon: say so rather than claim it is gone
        item.update(status="failed", error={
            "code": "outcome_unknown", "retryable": False, "platform_error": None,
            "message": "this item may exist on the platform (its worker stopped mid-call): check and delete it by hand"})
    elif isinstance(found, Published):
        item.update(status="published", platform_post_id=found.platform_post_id, permalink=found.permalink or None)
    for name in IN_FLIGHT:
        item.pop(name, None)


def _delete(adapter: Platform, account: Account, platform_post_id: str) -> None:
    try:
        adapter.delete(account, platform_post_id)
    except PlatformNotFound:
        pass
