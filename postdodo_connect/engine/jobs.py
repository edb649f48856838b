"""RQ job functions: plain importable functions taking ids only."""

from __future__ import annotations

from .runtime import process_runtime


def publish_target(target_id: str, attempt: int) -> str:
    """Make one publish attempt of a target."""
    runtime = process_runtime()
    try:
        return runtime.publish(target_id, attempt)
    finally:
        runtime.job_done()


def deliver_event(delivery_id: str, attempt: int) -> str:
    """Make one webhook delivery attempt."""
    runtime = process_runtime()
    try:
        return runtime.deliver(delivery_id, attempt)
    finally:
        runtime.job_done()


def refresh_account(account_id: str, stamp: int) -> str:
    """Renew an account's token ahead of its expiry."""
    runtime = process_runtime()
    try:
        return runtime.keeper.refresh_ahead(account_id, stamp)
    finally:
        runtime.job_done()
