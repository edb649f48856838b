"""Prefixed opaque ids: `post_`, `acct_`, ... followed by random base62."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 16) -> str:
    """A fresh id such as `post_7Hq2Lp...`."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
