"""Bodies of the system routes (register, token)."""

from __future__ import annotations

import msgspec


class RegisterBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    email: str


class TokenBody(msgspec.Struct, forbid_unknown_fields=True):
    ttl_seconds: int | None = None
