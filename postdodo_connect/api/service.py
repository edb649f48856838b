"""What every view needs: settings, database, vault, cursor signer, the clock and the engine's doorbell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..config import Settings
from ..errors import InvalidRequestError
from ..storage import Database, Vault, utcnow

T = TypeVar("T")


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

    def load_cursor(self, token: str, parse: Callable[[Any], T]) -> T:
        """The value inside a cursor, read by `parse`; a tampered cursor or one of another list is a 400."""
        try:
            return parse(self.cursors.loads(token))
        except BadSignature as exc:
            raise InvalidRequestError("cursor is invalid or was tampered with", param="cursor") from exc
        except (TypeError, ValueError):  # signed by us, for another list (an events cursor sent to /v1/posts)
            raise InvalidRequestError("cursor belongs to another list; use the next_cursor of this list",
                                      param="cursor") from None


def time_and_id(value: Any) -> tuple[datetime, str]:
    """A `[created_at, id]` cursor's position (TypeError/ValueError for any other shape)."""
    created, last_id = value
    if not isinstance(created, str) or not isinstance(last_id, str):
        raise TypeError("not a [time, id] cursor")
    return datetime.fromisoformat(created), last_id


def service() -> Service:
    """The Service of the current app."""
    svc: Service = current_app.extensions["postdodo"]
    return svc
