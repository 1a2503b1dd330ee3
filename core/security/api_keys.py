"""API keys: `sk_live_` + 32 random bytes; only a SHA-256 hash is stored.

A key carries ~190 bits of entropy, so a fast hash is the right tool (no password stretching is
needed), and lookup is one indexed equality on the hash.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "sk_live_"
DISPLAY_PREFIX_LEN = 12

TENANT_SCOPES = ("tenant:read", "tenant:write", "chat:read", "chat:write", "chat:delete")
ADMIN_SCOPE = "admin"
SYSTEM_SCOPE = "system:admin"
ALL_TENANT_SCOPES = (*TENANT_SCOPES, ADMIN_SCOPE)
KNOWN_SCOPES = (*ALL_TENANT_SCOPES, SYSTEM_SCOPE)


def generate_key() -> str:
    """A new raw key, shown to its owner once."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(raw.encode()).hexdigest()


def looks_like_key(raw: str) -> bool:
    """Cheap shape check before touching the database."""
    return raw.startswith("sk_") and 20 <= len(raw) <= 128


def display_prefix(raw: str) -> str:
    """The part of a key safe to show in listings."""
    return raw[:DISPLAY_PREFIX_LEN]
