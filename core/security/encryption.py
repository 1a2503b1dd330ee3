"""Connector credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

`CONNECTOR_ENCRYPTION_KEY` holds one or more comma-separated Fernet keys (a MultiFernet): the first
encrypts, every key decrypts, so a new key is rolled out by putting it first, re-encrypting every
stored config with `rotate()` (the `kariz connectors rotate-keys` command), then dropping the old key.

Without a configured key, `CredentialBox.from_settings` refuses (`EncryptionKeyMissing`) - except in
development (`KARIZ_ENV=development`), where it generates a key once and keeps it in
`<data_dir>/connector-encryption.key` (mode 0600), so a local setup works without configuration.
Production never gets there: `Settings.check_production` refuses to start without a key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import KarizError
from core.settings import Settings, get_settings

DEV_KEY_FILE = "connector-encryption.key"


class EncryptionKeyMissing(KarizError):
    """No usable `CONNECTOR_ENCRYPTION_KEY` is configured."""

    code = "ENCRYPTION_KEY_MISSING"


class CredentialsUnreadable(KarizError):
    """A stored token cannot be decrypted with any configured key (or is not a credentials object)."""

    code = "CREDENTIALS_UNREADABLE"


def generate_key() -> str:
    """A new random Fernet key, as the text to put in `CONNECTOR_ENCRYPTION_KEY`."""
    return Fernet.generate_key().decode("ascii")


def development_key(data_dir: Path) -> str:
    """The development key kept in `data_dir`, created (readable by the owner only) on first use."""
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


class CredentialBox:
    """Encrypts connection configs (dicts) to opaque text and back."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise EncryptionKeyMissing(
                "CONNECTOR_ENCRYPTION_KEY is not set; generate one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
            )
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii") if isinstance(key, str) else key))
            except (ValueError, TypeError, UnicodeEncodeError):
                # never echo the key itself
                raise EncryptionKeyMissing(
                    f"CONNECTOR_ENCRYPTION_KEY entry {position} is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from None
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> CredentialBox:
        """The box for the configured keys; in development without keys, the persisted development key."""
        settings = settings or get_settings()
        keys = settings.encryption_keys
        if not keys and settings.env == "development":
            keys = [development_key(settings.data_dir)]
        return cls(keys)

    def encrypt(self, config: Mapping[str, Any]) -> str:
        """An opaque token holding `config` (JSON-serialisable), encrypted with the first key."""
        return self._fernet.encrypt(json.dumps(dict(config), separators=(",", ":")).encode("utf-8")).decode(
            "ascii"
        )

    def decrypt(self, token: str) -> dict[str, Any]:
        """The config inside `token`; `CredentialsUnreadable` if no configured key opens it."""
        try:
            value = json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeEncodeError):
            raise CredentialsUnreadable(
                "stored connector credentials cannot be decrypted with the configured keys"
            ) from None
        if not isinstance(value, dict):
            raise CredentialsUnreadable("stored connector credentials are not an object")
        return value

    def rotate(self, token: str) -> str:
        """`token` re-encrypted with the first key (unchanged content); `CredentialsUnreadable` if unreadable."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError, UnicodeEncodeError):
            raise CredentialsUnreadable(
                "stored connector credentials cannot be decrypted with the configured keys"
            ) from None
