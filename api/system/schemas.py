"""Bodies of the system routes (register, token)."""

from __future__ import annotations

import uuid

import msgspec

from api.envelopes import Envelope, named


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


TokenResponse = named(Envelope[TokenView], "TokenResponse")


class LogoutView(msgspec.Struct, rename="camel"):
    """The session that was ended: its tokens no longer work."""

    session_id: str
    revoked_at: str


LogoutResponse = named(Envelope[LogoutView], "LogoutResponse")


class MemoryView(msgspec.Struct, rename="camel"):
    rss_mb: float


class HealthView(msgspec.Struct):
    """Liveness: the process runs."""

    status: str
    version: str
    uptime: float
    memory: MemoryView


class CheckView(msgspec.Struct, rename="camel", omit_defaults=True):
    """One dependency's readiness probe; `error` only when it failed."""

    status: str
    latency_ms: float
    error: str | msgspec.UnsetType = msgspec.UNSET


class ReadinessView(msgspec.Struct, rename="camel"):
    """Each dependency's probe; `status` is `ready` only when every probe passed."""

    status: str
    checks: dict[str, CheckView]
    total_latency_ms: float


class RegisteredView(msgspec.Struct, rename="camel"):
    """A new tenant's id and its first admin key (`apiKey`, shown once)."""

    api_key: str
    tenant_id: str
    scopes: list[str]


RegisteredResponse = named(Envelope[RegisteredView], "RegisteredResponse")
