"""One first-comment attempt per job, on a confirmed target: its outcome is the comment's own, never the post's.

Every attempt puts its call start on record before the call. A later attempt that finds one (its worker died, or
the answer was lost) sends the comment again only within the platform's idempotency horizon, where the repeat
answers with the original; past it the comment fails as `outcome_unknown` rather than appear twice (no platform
can look a comment up). An unpublish asked while a self-reply (`comment_is_post`) is in flight finds it the same
way (the attempt records its id, or the delete settles a call whose worker died) instead of leaving it up.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from ..errors import OutcomeUnknown, PlatformError
from ..platforms import Published
from ..storage import unpublish as store
from .progress import error_record

if TYPE_CHECKING:
    from .publisher import Publisher

log = logging.getLogger("postdodo.commenter")


def may_exist(advice: str) -> dict[str, Any]:
    """The error of a first comment an attempt that stopped mid-call may have posted, and nobody can tell."""
    return {"code": "outcome_unknown", "retryable": False, "platform_error": None,
            "message": f"the first comment may exist on the platform (an attempt stopped mid-call): {advice}"}


def post_comment(publisher: Publisher, target: dict[str, Any], account_row: dict[str, Any], attempt: int) -> str:
    """Post a confirmed target's first comment; returns the comment's status (pending when it will be retried)."""
    if (target["first_comment"] or {}).get("status") != "pending" or not target["platform_post_id"]:
        return _record(publisher, target, attempt, target["first_comment"])  # nothing to do: release the lease
    comment = dict(target["first_comment"])
    try:
        if account_row["status"] != "active":
            raise PlatformError(f"account {account_row['id']} is {account_row['status']}",
                                code=f"account_{account_row['status']}")
        adapter = publisher.adapter_for(account_row)
        account = publisher.account(account_row)
        started = comment.get("call_started_at")
        if started is not None and publisher.clock().timestamp() - started >= adapter.horizon(account):
            comment.pop("call_started_at")  # an earlier call may have posted it, and no repeat can tell
            return _record(publisher, target, attempt, comment | {"status": "failed", "error": may_exist(
                "check it by hand before posting it again")})
        if not _calling(publisher, target, attempt, comment, started):
            return "lost"
        made: Published = adapter.comment(account, target["platform_post_id"], comment["text"])
    except PlatformError as exc:
        error = error_record(exc)
        # processing_checks holds the attempts up to the confirmation: only comment attempts count here
        delay = publisher.policy.next_delay(attempt - (target.get("processing_checks") or 0), exc.retry_after) \
            if exc.retryable else None
        if not isinstance(exc, OutcomeUnknown):  # the platform said no: nothing was made
            comment.pop("call_started_at", None)
        if delay is None:
            return _record(publisher, target, attempt, comment | {"status": "failed", "error": error})
        next_at = publisher.clock() + timedelta(seconds=delay)
        return _record(publisher, target, attempt, comment | {"error": error}, next_at)
    except Exception as exc:  # an adapter bug: the comment fails, the post stays confirmed
        log.exception("first comment of %s raised unexpectedly", target["id"])
        comment.pop("call_started_at", None)
        return _record(publisher, target, attempt, comment | {"status": "failed", "error": {
            "code": "internal_error", "message": f"internal error: {exc.__class__.__name__}", "retryable": False,
            "platform_error": None}})
    comment.pop("call_started_at", None)
    return _record(publisher, target, attempt, comment | {
        "status": "published", "platform_post_id": made.platform_post_id or None, "permalink": made.permalink or None,
        "error": None})


def _calling(publisher: Publisher, target: dict[str, Any], attempt: int, comment: dict[str, Any],
             started: float | None) -> bool:
    """Put the call start on record before the call (an earlier one's, when re-sending within the horizon, which
    counts from the first call); False (nothing sent, the lease handed to the delete) once unpublishing."""
    comment["call_started_at"] = started if started is not None else publisher.clock().timestamp()
    now, saved = publisher.clock(), dict(comment)
    if publisher.record(lambda conn: store.save_comment(conn, target["id"], attempt, now, saved)):
        return True
    publisher.record(lambda conn: store.finish_follow_up(conn, target["id"], attempt, now))
    return False


def _record(publisher: Publisher, target: dict[str, Any], attempt: int, comment: dict[str, Any] | None,
            next_at: Any = None) -> str:
    now = publisher.clock()

    def record(conn: Connection) -> str:
        if not store.finish_comment(conn, target["id"], attempt, now, first_comment=comment, next_attempt_at=next_at):
            return "lost"
        return str((comment or {}).get("status") or "none")

    return publisher.record(record)
