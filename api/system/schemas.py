"""Bodies of the system routes (register, token)."""

from __future__ import annotations

import uuid

import msgspec


class RegisterBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    email: str


class TokenBody(msgspec.Struct, forbid_unknown_fields=True):
    ttl_seconds: int | None = None
    # the password grant: the tenant's asset-manager password instead of an API key
    tenant_id: uuid.UUID | None = msgspec.field(default=None, name="tenantId")
    password: str | None = None


class TokenView(msgspec.Struct, rename="camel"):
    """A portal JWT, bound to the session it opened."""

    token: str
    token_type: str
    expires_at: str
    session_id: str


class TokenResponse(msgspec.Struct):
    data: TokenView
    success: bool = True


class LogoutView(msgspec.Struct, rename="camel"):
    """The session that was ended: its tokens no longer work."""

    session_id: str
    revoked_at: str


class LogoutResponse(msgspec.Struct):
    data: LogoutView
    success: bool = True
