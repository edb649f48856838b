"""Job functions the receiver tests route events to (importable as ``tests.receiver.jobs``)."""

from __future__ import annotations

import json
from typing import Any

from rq import get_current_job

# Inline-mode jobs run without RQ, so they record here instead of in Redis.
INLINE_SEEN: list[dict[str, Any]] = []
not_callable = 42


def _push(key: str, event: dict[str, Any]) -> None:
    """Append the event to a Redis list through the worker's own connection."""
    job = get_current_job()
    assert job is not None, "runs only inside an RQ worker"
    job.connection.rpush(key, json.dumps(event))


def record(event: dict[str, Any]) -> str:
    """Record a delivered event."""
    _push("test:record", event)
    return str(event["id"])


def alert(event: dict[str, Any]) -> None:
    """Record an event routed to the alerts queue."""
    _push("test:alerts", event)


def flaky(event: dict[str, Any]) -> None:
    """Fail while ``test:fail`` is set in Redis, record otherwise."""
    job = get_current_job()
    assert job is not None
    if job.connection.get("test:fail"):
        raise RuntimeError("downstream is down")
    _push("test:record", event)


def inline_record(event: dict[str, Any]) -> None:
    """Inline-mode job: remember the event in memory."""
    INLINE_SEEN.append(event)


def inline_fail(event: dict[str, Any]) -> None:
    """Inline-mode job that always fails."""
    raise RuntimeError("inline job failed")
