"""PostDodo webhook receiver: verify signed deliveries and re-emit them as RQ jobs (docs/receiver.md)."""

from __future__ import annotations

from receiver.app import create_app

__all__ = ["create_app"]
