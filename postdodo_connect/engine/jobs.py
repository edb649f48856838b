"""RQ job functions: plain importable functions taking ids only."""

from __future__ import annotations

from .runtime import process_runtime


def publish_target(target_id: str, attempt: int) -> str:
    """Make one publish attempt of a target."""
    return process_runtime().publisher.run(target_id, attempt)


def deliver_event(delivery_id: str, attempt: int) -> str:
    """Make one webhook delivery attempt."""
    return process_runtime().deliverer.run(delivery_id, attempt)


def refresh_account(account_id: str, stamp: int) -> str:
    """Renew an account's token ahead of its expiry."""
    return process_runtime().keeper.refresh_ahead(account_id, stamp)
