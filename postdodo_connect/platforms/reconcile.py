"""Reconcile helpers: does a post found on the platform match what an ambiguous attempt sent?

A lookup matches on what the attempt saved (handles, the time its creating call started) and on the
exact text, never on "the newest few posts". Also the sample ids (digits, shortcodes) the sandbox shows.
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime
from typing import Any

#: Instagram/Threads shortcodes use the URL-safe base64 alphabet
SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: without a recorded call start, how far back a matching post may be ours
LOOKUP_WINDOW = 24 * 3600.0
#: clocks drift: a post may carry a time slightly before our call started
CLOCK_SKEW = 300.0
#: after the call started, how long the platform may take to stamp the post (queued publishing)
CREATE_SPAN = 3600.0

_TAG = re.compile(r"<br\s*/?>|</p>\s*<p>|<[^>]+>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def parse_time(value: Any) -> float | None:
    """Epoch seconds from a number (or its text) or an ISO 8601 time (Python 3.11 reads `Z` and Graph's `+0000`; naive is UTC)."""
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)  # epoch seconds as text (Slack's `ts`)
    except (TypeError, ValueError):
        pass
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def in_window(created: Any, call_started: float | None, now: float) -> bool:
    """Whether a post created at `created` can be the one a call started at `call_started` made."""
    moment = parse_time(created)
    if moment is None:
        return False
    if call_started is None:  # no record of the call: the older, looser window
        return moment >= now - LOOKUP_WINDOW
    return call_started - CLOCK_SKEW <= moment <= call_started + CREATE_SPAN


def plain_text(value: str) -> str:
    """Text with HTML tags and entities undone and whitespace runs collapsed (Mastodon renders statuses as HTML)."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", value))).strip()


def same_text(found: Any, sent: str, *, rendered: bool = False) -> bool:
    """Whether the platform's text of a post is exactly the caption we sent (modulo whitespace)."""
    if not isinstance(found, str):
        return False
    text = plain_text(found) if rendered else _SPACE.sub(" ", found).strip()
    return text == _SPACE.sub(" ", sent).strip()


def seed_int(seed: str) -> int:
    """A large stable integer derived from `seed`."""
    return int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:16], "big")


def seed_digits(seed: str, length: int) -> str:
    """`length` decimal digits derived from `seed`, never starting with 0 (snowflake-like sample ids)."""
    return str(10 ** (length - 1) + seed_int(seed) % (9 * 10 ** (length - 1)))


def shortcode(number: int, length: int = 11) -> str:
    """`number` written in the shortcode alphabet, padded or cut to `length` characters."""
    chars = []
    while number:
        number, digit = divmod(number, 64)
        chars.append(SHORTCODE_ALPHABET[digit])
    return "".join(reversed(chars)).rjust(length, "A")[-length:]
