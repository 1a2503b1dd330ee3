"""Who is calling: the tenant, the key or token, and what it may do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import State

from core.security.api_keys import ADMIN_SCOPE, SYSTEM_SCOPE


@dataclass(frozen=True)
class Principal:
    tenant_id: uuid.UUID
    scopes: frozenset[str]
    key_id: uuid.UUID | None = None
    subject: str | None = None
    via: str = "api_key"  # or "jwt"
    session_id: uuid.UUID | None = None  # the token session of a JWT
    account_id: uuid.UUID | None = None  # the account whose role caps the scopes, if any

    @property
    def is_system(self) -> bool:
        """An operator across all tenants."""
        return SYSTEM_SCOPE in self.scopes

    def allows(self, scope: str) -> bool:
        """`admin` covers every tenant-level scope; `system:admin` covers everything."""
        if self.is_system or scope in self.scopes:
            return True
        return scope != SYSTEM_SCOPE and ADMIN_SCOPE in self.scopes


AuthedRequest = Request[Principal, Any, State]
"""A handler's request after the auth middleware: `request.user` is the calling Principal."""
