"""Prefixed opaque ids: `post_`, `acct_`, ... followed by random base62."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
# byte -> base62 character for bytes below 248 (= 4 x 62: each character from exactly four byte values, so
# uniform); bytes 248-255 are dropped. One C-level translate instead of a Python loop per character.
_TABLE = bytes(ord(_ALPHABET[b % 62]) for b in range(256))
_DROP = bytes(range(248, 256))


def random_base62(length: int) -> str:
    """`length` uniformly random base62 characters from the OS's random source (API keys use it too)."""
    out = b""
    while len(out) < length:
        # a few spare bytes: each is dropped with probability 8/256, so one draw almost always suffices
        out += secrets.token_bytes(length + 8).translate(_TABLE, _DROP)
    return out[:length].decode("ascii")


def new_id(prefix: str, length: int = 16) -> str:
    """A fresh id such as `post_7Hq2Lp...`."""
    return f"{prefix}_{random_base62(length)}"
