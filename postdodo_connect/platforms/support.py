"""Helpers shared by the Meta, chat and pin adapters (kept out of base.py, which another module owns)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import requests

from .base import OutcomeUnknown, Platform, PlatformAuthError, PlatformUnavailable

#: Instagram/Threads shortcodes use the URL-safe base64 alphabet
SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: how far back a reconcile lookup accepts a matching post as the one an ambiguous publish made
LOOKUP_WINDOW = 24 * 3600.0


def seed_int(seed: str) -> int:
    """A large stable integer derived from `seed`."""
    return int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:16], "big")


def shortcode(number: int, length: int = 11) -> str:
    """`number` written in the shortcode alphabet, padded or cut to `length` characters."""
    chars = []
    while number:
        number, digit = divmod(number, 64)
        chars.append(SHORTCODE_ALPHABET[digit])
    return "".join(reversed(chars)).rjust(length, "A")[-length:]


def parse_time(value: Any) -> float | None:
    """Epoch seconds from a number or an ISO 8601 time (Python 3.11 reads `Z` and Graph's `+0000`; naive is UTC)."""
    if isinstance(value, (int, float)):
        return float(value)
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class Adapter(Platform):
    """Platform base with credential access, JSON success bodies and the reconcile window."""

    def credential(self, credentials: dict[str, Any], key: str) -> str:
        """One required credential field; a missing one is an auth error, not a crash."""
        value = credentials.get(key)
        if not value:
            raise PlatformAuthError(f"{self.label} credentials lack {key}", code="auth_expired")
        return str(value)

    def json(self, response: requests.Response, *, creates: bool = False) -> dict[str, Any]:
        """A 2xx answer's JSON object; anything else (a proxy's HTML page) leaves us unsure."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            return body
        message = f"{self.label} answered HTTP {response.status_code} without a JSON body"
        error = OutcomeUnknown if creates else PlatformUnavailable
        raise error(message, code="outcome_unknown" if creates else "platform_unavailable", platform_error=response.text[:2000])

    def recent(self, timestamp: Any) -> bool:
        """Whether a post's creation time falls inside the reconcile window."""
        created = parse_time(timestamp)
        return created is not None and created >= self.clock() - LOOKUP_WINDOW
