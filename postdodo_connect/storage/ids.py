"""Prefixed opaque ids: `post_`, `acct_`, ... followed by random base62."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def random_base62(length: int) -> str:
    """`length` random base62 characters (one call to the OS's random source, not one per character)."""
    number = int.from_bytes(secrets.token_bytes(length), "big")  # 8 bits per char: more than log2(62) needs
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def new_id(prefix: str, length: int = 16) -> str:
    """A fresh id such as `post_7Hq2Lp...`."""
    return f"{prefix}_{random_base62(length)}"
