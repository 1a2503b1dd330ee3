"""The `FileStore` interface: opaque, generated keys to bytes.

Keys are made by `new_storage_key()` (a tenant's hex id and a random hex id) and checked on every
call, so no path or object name is ever built from user input: file names are metadata in
PostgreSQL only. A store that cannot be reached raises `Unavailable`; an unknown key `NotFound`.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod

from core.errors import InvalidInput

_KEY_RE = re.compile(r"^[0-9a-f]{32}/[0-9a-f]{2}/[0-9a-f]{32}$")


def new_storage_key(tenant_id: uuid.UUID) -> str:
    """A fresh key for a tenant's file: `<tenant hex>/<2 hex>/<random hex>`."""
    blob = uuid.uuid4().hex
    return f"{tenant_id.hex}/{blob[:2]}/{blob}"


def check_key(key: str) -> str:
    """`key` if it has the shape `new_storage_key` makes, else InvalidInput."""
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise InvalidInput("invalid storage key")
    return key


class FileStore(ABC):
    """Bytes by key. `put` is atomic: a reader sees all of a file or none of it."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` (replacing what was there)."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes under `key`; NotFound when there are none."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove `key`; False when it did not exist."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether bytes are stored under `key`."""
