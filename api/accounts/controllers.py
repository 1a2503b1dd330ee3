"""Accounts of a tenant: list, update (`PATCH` partial, `PUT` whole). Creating and reading one
account stay in `api/tenants`. A role change or a disabled account bounds the account's keys within
a few seconds in every API process (the key cache lives at most 5 s; this process drops it at once)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, put
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.accounts.schemas import (
    AccountListResponse,
    AccountResponse,
    PatchAccountBody,
    PutAccountBody,
    account_view,
)
from api.auth.guards import own_tenant, requires_scope
from api.auth.middleware import forget_account
from api.auth.principal import AuthedRequest
from api.envelopes import Pagination
from api.worker_sessions import run_in_worker_session
from core.accounts import service
from core.security.api_keys import ADMIN_SCOPE


class AccountsController(Controller):
    path = "/tenants/{tenant_id:uuid}/accounts"
    tags = ["accounts"]

    @get("/", operation_id="listAccounts", guards=[requires_scope("tenant:read")], summary="List accounts",
         description="The tenant's accounts, oldest first, paged with `limit` (1-200) and `offset`.")
    async def list_accounts(
        self, request: AuthedRequest, tenant_id: uuid.UUID, db_session: AsyncSession,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50, offset: Annotated[int, Parameter(ge=0)] = 0,
    ) -> AccountListResponse:
        own_tenant(request.user, tenant_id)
        rows, total = await run_in_worker_session(
            db_session, lambda s: service.list_accounts(s, tenant_id, limit=limit, offset=offset))
        return AccountListResponse(data=[account_view(a) for a in rows],
                                   pagination=Pagination(limit=limit, offset=offset, total=total))

    @patch("/{account_id:uuid}", operation_id="patchAccount", guards=[requires_scope(ADMIN_SCOPE)],
           summary="Update an account (partial)",
           description="Any of `name`, `email`, `role` (admin, member, viewer), `disabled`; the new role "
           "caps the account's keys within seconds, a disabled account's keys stop working.")
    async def patch_account(self, request: AuthedRequest, tenant_id: uuid.UUID, account_id: uuid.UUID,
                            data: PatchAccountBody, db_session: AsyncSession) -> AccountResponse:
        return await self._update(request, tenant_id, account_id, data, db_session)

    @put("/{account_id:uuid}", operation_id="putAccount", guards=[requires_scope(ADMIN_SCOPE)],
         summary="Replace an account",
         description="`email` and `role` required; `name` and `disabled` default to none and false.")
    async def put_account(self, request: AuthedRequest, tenant_id: uuid.UUID, account_id: uuid.UUID,
                          data: PutAccountBody, db_session: AsyncSession) -> AccountResponse:
        return await self._update(request, tenant_id, account_id, data, db_session)

    async def _update(self, request: AuthedRequest, tenant_id: uuid.UUID, account_id: uuid.UUID,
                      data: PatchAccountBody | PutAccountBody, db_session: AsyncSession) -> AccountResponse:
        own_tenant(request.user, tenant_id)
        changes = data.changes()
        def work(s):
            account = service.update_account(s, tenant_id, account_id, changes)
            s.refresh(account)  # updated_at is set by the database
            return account_view(account)

        view = await run_in_worker_session(db_session, work, commit=True)
        forget_account(account_id)
        return AccountResponse(data=view)


ROUTES = [AccountsController]
