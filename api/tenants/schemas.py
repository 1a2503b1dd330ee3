"""Bodies and views of tenants, accounts and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from api.envelopes import Envelope, named
from api.timestamps import iso
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


class TenantLimits(msgspec.Struct, rename="camel"):
    entity_limit: int
    monthly_requests: int
    monthly_tokens: int
    per_minute: int
    daily: int


class TenantView(msgspec.Struct, rename="camel"):
    """A tenant and its plan's limits."""

    id: str
    name: str
    email: str | None
    plan: str
    limits: TenantLimits
    created_at: str | None


class CreatedTenantView(TenantView, rename="camel"):
    """A new tenant with its admin key (`apiKey`, shown once)."""

    api_key: str
    scopes: list[str]


class KeyView(msgspec.Struct, rename={"account_id": "accountId"}):
    """A key's metadata; the secret is never part of it."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    account_id: str | None
    created_at: str | None
    last_used_at: str | None
    expires_at: str | None
    revoked: bool


class CreatedKeyView(KeyView, rename={"account_id": "accountId", "api_key": "apiKey"}):
    """A new key: the raw `apiKey` is in this response only."""

    api_key: str


class AccountView(msgspec.Struct, rename="camel"):
    id: str
    tenant_id: str
    email: str
    name: str | None
    role: str
    created_at: str | None


TenantResponse = named(Envelope[TenantView], "TenantResponse")
CreatedTenantResponse = named(Envelope[CreatedTenantView], "CreatedTenantResponse")
KeyResponse = named(Envelope[KeyView], "KeyResponse")
CreatedKeyResponse = named(Envelope[CreatedKeyView], "CreatedKeyResponse")
KeyListResponse = named(Envelope[list[KeyView]], "KeyListResponse")
AccountResponse = named(Envelope[AccountView], "TenantAccountResponse")  # api/accounts has its own AccountResponse


class TenantSummaryView(msgspec.Struct):
    """One tenant in `/admin/tenants`: its active record count and collection names."""

    tenant_id: str
    name: str
    record_count: int
    collections: list[str]
    created_at: str | None


def _tenant_fields(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": str(tenant.id),
        "name": tenant.name,
        "email": tenant.email,
        "plan": tenant.plan,
        "limits": TenantLimits(
            entity_limit=tenant.entity_limit,
            monthly_requests=tenant.monthly_request_limit,
            monthly_tokens=tenant.monthly_token_limit,
            per_minute=tenant.per_minute_limit,
            daily=tenant.daily_limit,
        ),
        "created_at": iso(tenant.created_at),
    }


def tenant_view(tenant: Tenant) -> TenantView:
    return TenantView(**_tenant_fields(tenant))


def created_tenant_view(tenant: Tenant, api_key: str, scopes: list[str]) -> CreatedTenantView:
    return CreatedTenantView(**_tenant_fields(tenant), api_key=api_key, scopes=list(scopes))


def _key_fields(key: ApiKey) -> dict[str, Any]:
    return {
        "id": str(key.id),
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "account_id": str(key.account_id) if key.account_id else None,
        "created_at": iso(key.created_at),
        "last_used_at": iso(key.last_used_at),
        "expires_at": iso(key.expires_at),
        "revoked": key.revoked_at is not None,
    }


def key_view(key: ApiKey) -> KeyView:
    """A key's metadata; the secret is never part of it."""
    return KeyView(**_key_fields(key))


def created_key_view(key: ApiKey, api_key: str) -> CreatedKeyView:
    return CreatedKeyView(**_key_fields(key), api_key=api_key)


def account_view(account: Account) -> AccountView:
    return AccountView(
        id=str(account.id),
        tenant_id=str(account.tenant_id),
        email=account.email,
        name=account.name,
        role=account.role.value,
        created_at=iso(account.created_at),
    )
