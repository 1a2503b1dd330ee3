"""Tenants, their accounts and API keys; `/admin/tenants` with record counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from litestar import Controller, delete, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.guards import own_tenant, requires_scope
from api.auth.middleware import forget_key
from api.auth.principal import AuthedRequest
from api.tenants.schemas import (
    AccountResponse,
    CreateAccountBody,
    CreatedKeyResponse,
    CreatedTenantResponse,
    CreateKeyBody,
    CreateTenantBody,
    KeyListResponse,
    KeyResponse,
    TenantResponse,
    TenantSummaryView,
    account_view,
    created_key_view,
    created_tenant_view,
    key_view,
    tenant_view,
)
from api.worker_sessions import run_in_worker_session
from core.accounts import service as account_service
from core.db.models import Account, Role
from core.errors import Forbidden, InvalidInput, NotFound
from core.security.api_keys import ADMIN_SCOPE, ALL_TENANT_SCOPES, SYSTEM_SCOPE, TENANT_SCOPES
from core.tenants import service


class TenantController(Controller):
    path = "/tenants"
    tags = ["tenants"]

    @get("/", operation_id="getOwnTenant", guards=[requires_scope("tenant:read")])
    async def own(self, request: AuthedRequest, db_session: AsyncSession) -> TenantResponse:
        """The caller's own tenant."""
        tenant = await run_in_worker_session(db_session, lambda s: service.get_tenant(s, request.user.tenant_id))
        return TenantResponse(data=tenant_view(tenant))

    @post("/", operation_id="createTenant", guards=[requires_scope(SYSTEM_SCOPE)], status_code=201)
    async def create(self, data: CreateTenantBody, db_session: AsyncSession) -> CreatedTenantResponse:
        """Create a tenant (operators only) with an admin key, shown once."""

        def run(s):
            tenant = service.create_tenant(s, data.name, email=data.email)
            issued = service.create_api_key(s, tenant.id, "admin", ALL_TENANT_SCOPES)
            return tenant, issued

        tenant, issued = await run_in_worker_session(db_session, run, commit=True)
        return CreatedTenantResponse(data=created_tenant_view(tenant, issued.raw, issued.key.scopes))

    @get("/{tenant_id:uuid}", operation_id="getTenant", guards=[requires_scope("tenant:read")])
    async def get_one(self, request: AuthedRequest, tenant_id: uuid.UUID, db_session: AsyncSession) -> TenantResponse:
        """One tenant's details: your own (operators: any)."""
        own_tenant(request.user, tenant_id)
        tenant = await run_in_worker_session(db_session, lambda s: service.get_tenant(s, tenant_id))
        return TenantResponse(data=tenant_view(tenant))

    @get("/{tenant_id:uuid}/api-keys", operation_id="listApiKeys", guards=[requires_scope(ADMIN_SCOPE)])
    async def list_keys(self, request: AuthedRequest, tenant_id: uuid.UUID, db_session: AsyncSession) -> KeyListResponse:
        """The tenant's keys: metadata only, never the secret."""
        own_tenant(request.user, tenant_id)
        keys = await run_in_worker_session(db_session, lambda s: service.list_api_keys(s, tenant_id))
        return KeyListResponse(data=[key_view(k) for k in keys])

    @post("/{tenant_id:uuid}/api-keys", operation_id="createApiKey", guards=[requires_scope(ADMIN_SCOPE)],
          status_code=201)
    async def create_key(self, request: AuthedRequest, tenant_id: uuid.UUID, data: CreateKeyBody,
                         db_session: AsyncSession) -> CreatedKeyResponse:
        """Issue a key; the raw `apiKey` is in this response only."""
        own_tenant(request.user, tenant_id)
        scopes = data.scopes if data.scopes is not None else list(TENANT_SCOPES)
        if SYSTEM_SCOPE in scopes and not request.user.is_system:
            raise Forbidden("only operators can grant system:admin")
        if data.expires_at is not None and data.expires_at.replace(tzinfo=data.expires_at.tzinfo or UTC) <= datetime.now(UTC):
            raise InvalidInput("expires_at must be in the future")
        requested = data.scopes

        def work(s):
            granted = scopes
            if data.account_id is not None:  # the account's role bounds the key (core/accounts/roles.py)
                granted = account_service.scopes_for_account_key(s, tenant_id, data.account_id, requested)
            return service.create_api_key(s, tenant_id, data.name, granted, expires_at=data.expires_at,
                                          account_id=data.account_id)

        issued = await run_in_worker_session(db_session, work, commit=True)
        return CreatedKeyResponse(data=created_key_view(issued.key, issued.raw))

    @delete("/{tenant_id:uuid}/api-keys/{key_id:uuid}", operation_id="revokeApiKey",
            guards=[requires_scope(ADMIN_SCOPE)], status_code=200)
    async def revoke_key(self, request: AuthedRequest, tenant_id: uuid.UUID, key_id: uuid.UUID,
                         db_session: AsyncSession) -> KeyResponse:
        """Revoke a key: it stops working at once."""
        own_tenant(request.user, tenant_id)
        key = await run_in_worker_session(db_session, lambda s: service.revoke_api_key(s, tenant_id, key_id), commit=True)
        forget_key(key.id)
        return KeyResponse(data=key_view(key))

    @post("/{tenant_id:uuid}/accounts", operation_id="createAccount", guards=[requires_scope(ADMIN_SCOPE)],
          status_code=201)
    async def create_account(self, request: AuthedRequest, tenant_id: uuid.UUID, data: CreateAccountBody,
                             db_session: AsyncSession) -> AccountResponse:
        """Create an account with a role (admin, member, viewer)."""
        own_tenant(request.user, tenant_id)
        try:
            role = Role(data.role)
        except ValueError:
            raise InvalidInput("role must be admin, member or viewer") from None
        account = await run_in_worker_session(db_session, lambda s: service.create_account(s, tenant_id, data.email.strip(), name=data.name, role=role), commit=True)
        return AccountResponse(data=account_view(account))

    @get("/{tenant_id:uuid}/accounts/{account_id:uuid}", operation_id="getAccount",
         guards=[requires_scope("tenant:read")])
    async def get_account(self, request: AuthedRequest, tenant_id: uuid.UUID, account_id: uuid.UUID,
                          db_session: AsyncSession) -> AccountResponse:
        """One account of the tenant: its email, name and role."""
        own_tenant(request.user, tenant_id)
        account = await db_session.get(Account, account_id)
        if account is None or account.tenant_id != tenant_id:
            raise NotFound(f"account {account_id} not found")
        return AccountResponse(data=account_view(account))


class AdminTenantsController(Controller):
    path = "/admin/tenants"
    tags = ["admin"]
    guards = [requires_scope(ADMIN_SCOPE)]

    @get("/", operation_id="adminListTenants")
    async def list_tenants(self, request: AuthedRequest, db_session: AsyncSession) -> list[TenantSummaryView]:
        """Tenants with record counts and collections: all of them for operators, your own otherwise."""
        scope = None if request.user.is_system else [request.user.tenant_id]
        rows = await run_in_worker_session(db_session, lambda s: service.tenant_summaries(s, scope))
        return [TenantSummaryView(**{**r, "created_at": r["created_at"].isoformat()}) for r in rows]


ROUTES = [TenantController, AdminTenantsController]
