"""Encryption at rest for platform credentials and webhook secrets (Fernet)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from ..errors import ConfigurationError


class Vault:
    """Encrypts and decrypts small secrets with a key derived from POSTDODO_SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        if len(secret_key) < 16:
            raise ConfigurationError("POSTDODO_SECRET_KEY must be at least 16 characters")
        # any passphrase works: Fernet needs exactly 32 url-safe base64 bytes, so derive them
        derived = hashlib.sha256(b"postdodo-vault:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, value: str) -> str:
        """Encrypt a string."""
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def open(self, token: str) -> str:
        """Decrypt a string sealed by this key."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken as exc:
            raise ConfigurationError("cannot decrypt a stored secret: was POSTDODO_SECRET_KEY changed?") from exc

    def seal_json(self, value: dict[str, Any]) -> str:
        """Encrypt a JSON object."""
        return self.seal(json.dumps(value, sort_keys=True))

    def open_json(self, token: str | None) -> dict[str, Any]:
        """Decrypt a JSON object (empty when nothing was stored)."""
        return json.loads(self.open(token)) if token else {}
