"""Who is calling: the tenant, the key or token, and what it may do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import State

from core.db.models import Role
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
    account_role: str | None = None  # that account's role

    @property
    def bound_account(self) -> uuid.UUID | None:
        """The account a member's or viewer's credential is confined to: it sees and acts on that
        account's files (and chats) only. None for admins, tenant-level credentials and operators,
        who see the whole tenant."""
        if self.account_id is None or self.account_role == Role.ADMIN or self.is_system:
            return None
        return self.account_id

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
