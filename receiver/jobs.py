"""Job functions shipped with the receiver; a route can point at any importable function instead."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["log_event"]

logger = logging.getLogger("receiver.jobs")


def log_event(event: dict[str, Any]) -> None:
    """Default ``post.published`` job: log the event (replace it with a route to your own function).

    A job receives the verified event envelope ``{"id", "event", "created_at", "data"}`` as a dict.
    Jobs may run more than once and in any order, so key side effects on ``event["id"]``.
    """
    data = event.get("data")
    if not isinstance(data, dict):
        data = {}
    logger.info(
        "postdodo event %s %s post=%s platform=%s permalink=%s",
        event.get("event"),
        event.get("id"),
        data.get("post_id"),
        data.get("platform"),
        data.get("permalink"),
    )
