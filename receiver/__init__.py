"""PostDodo webhook receiver: verify signed deliveries and re-emit them as RQ jobs (docs/receiver.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]

if TYPE_CHECKING:
    from receiver.app import create_app
else:
    def __getattr__(name: str) -> Any:
        """`create_app` on first use: Flask and RQ (the [receiver] extra) load only when the app is built, so
        `postdodo-receiver` on an install without them can say which extra to add instead of a traceback."""
        if name == "create_app":
            from receiver.app import create_app

            return create_app
        raise AttributeError(f"module 'receiver' has no attribute {name!r}")
