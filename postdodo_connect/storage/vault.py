"""Encryption at rest for platform credentials and webhook secrets (Fernet, key derived with HKDF-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import ConfigurationError

# fixed labels: changing one changes every derived key
_SALT = b"postdodo-connect/vault/v2"
_SEAL_INFO = b"fernet key for data at rest"
_CHECK_INFO = b"secret key verifier"
_CHECK_LABEL = b"postdodo-connect: is this the secret key the database was sealed with?"
MIN_LENGTH = 16


def _hkdf(secret_key: str, info: bytes) -> bytes:
    """32 bytes for one purpose, derived from the passphrase."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret_key.encode())


def _legacy_key(secret_key: str) -> bytes:
    """How releases before the HKDF change derived the key: kept only to read what they sealed."""
    return hashlib.sha256(b"postdodo-vault:" + secret_key.encode()).digest()


def verifier(secret_key: str) -> str:
    """A value that tells whether a key is the right one without revealing it (an HMAC under a derived key)."""
    return hmac.new(_hkdf(secret_key, _CHECK_INFO), _CHECK_LABEL, hashlib.sha256).hexdigest()


class Vault:
    """Encrypts and decrypts small secrets with a key derived from POSTDODO_SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < MIN_LENGTH:
            raise ConfigurationError(f"POSTDODO_SECRET_KEY must be at least {MIN_LENGTH} characters")
        # Fernet needs exactly 32 url-safe base64 bytes, whatever passphrase the user chose
        self._current = Fernet(base64.urlsafe_b64encode(_hkdf(secret_key, _SEAL_INFO)))
        # the current key seals; the legacy one still opens what older releases sealed
        self._fernet = MultiFernet([self._current, Fernet(base64.urlsafe_b64encode(_legacy_key(secret_key)))])

    def seal(self, value: str) -> str:
        """Encrypt a string."""
        return self._current.encrypt(value.encode()).decode("ascii")

    def open(self, token: str) -> str:
        """Decrypt a string sealed by this key (or by its legacy derivation)."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise ConfigurationError("cannot decrypt a stored secret: was POSTDODO_SECRET_KEY changed?") from exc

    def can_open(self, token: str) -> bool:
        """True when this key opens the token."""
        try:
            self._fernet.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def reseal(self, token: str) -> str | None:
        """The token sealed with the current derivation, or None when it already is."""
        raw = token.encode("ascii")
        try:
            self._current.decrypt(raw)
            return None
        except InvalidToken:
            pass
        try:
            return self._fernet.rotate(raw).decode("ascii")
        except InvalidToken as exc:
            raise ConfigurationError("cannot decrypt a stored secret: was POSTDODO_SECRET_KEY changed?") from exc

    def seal_json(self, value: dict[str, Any]) -> str:
        """Encrypt a JSON object."""
        return self.seal(json.dumps(value, sort_keys=True))

    def open_json(self, token: str | None) -> dict[str, Any]:
        """Decrypt a JSON object (empty when nothing was stored)."""
        return json.loads(self.open(token)) if token else {}
