"""The publish engine: scheduler, publisher, deliveries, dispatch (threads | RQ), retry policy."""

from __future__ import annotations

from .runtime import Runtime

__all__ = ["Runtime"]
