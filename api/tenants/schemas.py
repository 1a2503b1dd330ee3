"""Bodies and views of tenants, accounts and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from core.db.models import Account, ApiKey, Tenant


class CreateTenantBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    email: str | None = None


class CreateKeyBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    scopes: list[str] | None = None
    expires_at: datetime | None = None
    account_id: uuid.UUID | None = msgspec.field(default=None, name="accountId")  # its role caps the key


class CreateAccountBody(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    name: str | None = None
    role: str = "member"


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": str(tenant.id),
        "name": tenant.name,
        "email": tenant.email,
        "plan": tenant.plan,
        "limits": {
            "entityLimit": tenant.entity_limit,
            "monthlyRequests": tenant.monthly_request_limit,
            "monthlyTokens": tenant.monthly_token_limit,
            "perMinute": tenant.per_minute_limit,
            "daily": tenant.daily_limit,
        },
        "createdAt": tenant.created_at.isoformat() if tenant.created_at else None,
    }


def key_view(key: ApiKey) -> dict[str, Any]:
    """A key's metadata; the secret is never part of it."""
    return {
        "id": str(key.id),
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "accountId": str(key.account_id) if key.account_id else None,
        "created_at": key.created_at.isoformat() if key.created_at else None,
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked": key.revoked_at is not None,
    }


def account_view(account: Account) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "tenantId": str(account.tenant_id),
        "email": account.email,
        "name": account.name,
        "role": account.role.value,
        "createdAt": account.created_at.isoformat() if account.created_at else None,
    }
