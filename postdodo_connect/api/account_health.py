"""An account's health: token expiry, granted vs needed scopes, last publish and error, needs_reconnect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import platforms
from ..errors import ConfigurationError
from ..storage import Vault


def health(row: dict[str, Any], history: dict[str, Any], now: datetime, vault: Vault) -> dict[str, Any]:
    """The `health` of one account row (with token_expires_at, scopes and sealed credentials)."""
    cls = platforms.adapter_class(row["platform"]) if row["platform"] in platforms.NAMES else None
    needed = list(cls.oauth.scopes) if cls is not None and cls.oauth is not None and not cls.connect_form else []
    granted = row.get("scopes")
    missing = granted is not None and any(s not in granted for s in needed)
    expires = row.get("token_expires_at")
    # an expired token is only fatal when no refresh token can replace it (read only then: it is sealed)
    stale = expires is not None and expires <= now and not _refreshable(row.get("credentials"), vault)
    return {"token_expires_at": expires, "scopes_granted": granted, "scopes_needed": needed,
            "last_published_at": history.get("last_published_at"), "last_error": history.get("last_error"),
            "needs_reconnect": row["status"] == "expired" or bool(missing) or stale}


def _refreshable(sealed: str | None, vault: Vault) -> bool:
    try:
        return bool(vault.open_json(sealed).get("refresh_token"))
    except ConfigurationError:
        return False
