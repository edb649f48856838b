"""What every view needs: settings, database, vault, cursor signer, the clock and the engine's doorbell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..config import Settings
from ..errors import InvalidRequestError
from ..storage import Database, Vault, utcnow


@dataclass
class Service:
    """The service objects behind one Flask app."""

    settings: Settings
    db: Database
    vault: Vault
    clock: Callable[[], datetime] = utcnow
    #: wakes the scheduler when work became due now (set by the engine runtime when one runs here)
    kick: Callable[[], None] = lambda: None
    cursors: URLSafeSerializer = field(init=False)

    def __post_init__(self) -> None:
        self.cursors = URLSafeSerializer(self.settings.secret_key or "", salt="postdodo.cursor")

    def dump_cursor(self, value: Any) -> str:
        """An opaque, signed pagination cursor."""
        return str(self.cursors.dumps(value))

    def load_cursor(self, token: str) -> Any:
        """The value inside a cursor; a tampered or foreign cursor is a 400."""
        try:
            return self.cursors.loads(token)
        except BadSignature as exc:
            raise InvalidRequestError("cursor is invalid or was tampered with", param="cursor") from exc


def service() -> Service:
    """The Service of the current app."""
    svc: Service = current_app.extensions["postdodo"]
    return svc
