"""Sign and verify webhook deliveries (Standard Webhooks ``v1``, DESIGN.md section 5); stdlib only."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import secrets as _random
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from postdodo_connect.errors import ConfigurationError, SignatureError

__all__ = [
    "Verified",
    "decode_secret",
    "delivery_headers",
    "generate_secret",
    "sign",
    "signature_header",
    "verify",
]

SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES = 24  # the Standard Webhooks spec allows 24..64 random bytes
MAX_KEY_BYTES = 64
_BRANDED = ("x-postdodo-id", "x-postdodo-timestamp", "x-postdodo-signature")
_STANDARD = ("webhook-id", "webhook-timestamp", "webhook-signature")
_BRANDED_SHOWN = ("X-PostDodo-Id", "X-PostDodo-Timestamp", "X-PostDodo-Signature")
# Digits only: int() would also take "+1", " 1", "1_0" and non-ASCII digits.
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_MAX_ID_LENGTH = 256


class Verified(NamedTuple):
    """What a successful verification proves: the signed event id and attempt timestamp."""

    event_id: str
    timestamp: int


def _fail(reason: str, message: str) -> SignatureError:
    """Build a SignatureError carrying a machine-readable ``reason``."""
    return SignatureError(message, reason=reason)


def generate_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(32)).decode("ascii")


@functools.lru_cache(maxsize=64)
def decode_secret(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret (the prefix is optional)."""
    text = secret.strip()  # a pasted secret often carries a trailing newline
    text = text.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        # Never echo the secret itself: messages end up in logs.
        raise ConfigurationError("webhook secret is not valid base64 (expected whsec_<base64>)") from exc
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ConfigurationError(
            f"webhook secret decodes to {len(key)} bytes; {MIN_KEY_BYTES} to {MAX_KEY_BYTES} are required"
        )
    return key


def _digest(key: bytes, event_id: str, timestamp: int, body: bytes) -> bytes:
    """HMAC-SHA256 of ``{id}.{timestamp}.{body}``."""
    mac = hmac.new(key, f"{event_id}.{timestamp}.".encode(), hashlib.sha256)
    mac.update(body)
    return mac.digest()


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one delivery attempt."""
    digest = _digest(decode_secret(secret), event_id, int(timestamp), body)
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets: Sequence[str], event_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated signatures, one per secret (several during a rotation)."""
    return " ".join(sign(secret, event_id, timestamp, body) for secret in secrets)


def delivery_headers(secrets: Sequence[str], event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The branded and the Standard Webhooks headers of one delivery attempt."""
    values = (event_id, str(int(timestamp)), signature_header(secrets, event_id, timestamp, body))
    names = (*_BRANDED_SHOWN, *_STANDARD)
    return dict(zip(names, values * 2, strict=True))


def _read_headers(headers: Mapping[str, str]) -> tuple[str, str, str]:
    """The id, timestamp and signature values, branded names first, any letter case."""
    lowered = {str(name).lower(): value for name, value in headers.items()}
    standard = not any(name in lowered for name in _BRANDED) and any(name in lowered for name in _STANDARD)
    names = _STANDARD if standard else _BRANDED
    values = []
    for position, name in enumerate(names):
        value = lowered.get(name)
        if value is None or not str(value).strip():
            # ours first: a sender with neither family is told the name our docs use, and that the other works
            shown = name if standard else f"{_BRANDED_SHOWN[position]} (or {_STANDARD[position]})"
            raise _fail("missing_header", f"missing header {shown}")
        if not isinstance(value, str) or not value.isascii() or not value.isprintable():
            raise _fail("malformed_header", f"header {name} must be printable ASCII")
        values.append(value.strip())
    return values[0], values[1], values[2]


def _parse_signatures(header: str) -> list[bytes]:
    """Decoded ``v1`` signatures of a header; other versions are skipped."""
    found = []
    for entry in header.split():
        version, sep, value = entry.partition(",")
        if not sep or not version or not value:
            raise _fail("malformed_header", "signature entries must look like v1,<base64>")
        if version != "v1":
            continue  # unknown schemes (v1a, future versions) are ignored, not fatal
        try:
            found.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise _fail("malformed_header", "a v1 signature is not valid base64") from exc
    return found


def verify(
    secrets: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> Verified:
    """Check a delivery's signature and timestamp; raise SignatureError (with ``reason``) if it fails."""
    keys = [decode_secret(s) for s in ([secrets] if isinstance(secrets, str) else secrets)]
    if not keys:
        raise ConfigurationError("no webhook secret configured")
    event_id, raw_timestamp, raw_signatures = _read_headers(headers)
    if len(event_id) > _MAX_ID_LENGTH:
        raise _fail("malformed_header", "event id header is too long")
    if not _TIMESTAMP.fullmatch(raw_timestamp):
        raise _fail("malformed_header", "timestamp header must be integer Unix seconds")
    timestamp = int(raw_timestamp)
    candidates = _parse_signatures(raw_signatures)
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        body.decode("utf-8")  # Standard Webhooks signs text, so no genuine sender sends other bytes
    except UnicodeDecodeError as exc:
        raise _fail("bad_signature", "body is not valid UTF-8") from exc
    expected = [_digest(key, event_id, timestamp, body) for key in keys]
    # Compare every pair without an early exit so timing does not depend on which one matched.
    matched = False
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise _fail("bad_signature", "no signature matches a configured secret")
    # Timestamp after the MAC: a stale/future answer then means a genuine but skewed sender.
    current = time.time() if now is None else now
    if current - timestamp > tolerance:
        raise _fail("stale", f"timestamp is more than {tolerance} s in the past")
    if timestamp - current > tolerance:
        raise _fail("future", f"timestamp is more than {tolerance} s in the future")
    return Verified(event_id, timestamp)
