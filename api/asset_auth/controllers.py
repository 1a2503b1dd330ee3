"""The asset-manager password of a tenant (`/tenants/{tenantId}/asset-auth/password`)."""

from __future__ import annotations

import uuid

from litestar import Controller, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from api.asset_auth.schemas import PasswordBody, PasswordUpdatedResponse, PasswordUpdatedView
from api.auth.guards import own_tenant, requires_scope
from api.auth.middleware import forget_sessions
from api.auth.principal import AuthedRequest
from api.worker_sessions import run_in_worker_session
from core.accounts import asset_password
from core.security.api_keys import ADMIN_SCOPE

_DESCRIPTION = (
    "`{newPassword, confirmPassword}`: 8-128 characters with an uppercase letter, a lowercase letter, a "
    "number and a special character (!@#$%^&*), both fields equal, and not rated weak or common by a "
    "strength estimator; a 422 names every rule that failed (`error.failedRules`). Stored only as an "
    "Argon2id hash; sessions opened with the old password end. 5 attempts per 15 minutes per tenant, "
    "then 429 with Retry-After. `POST /auth/token` with `{tenantId, password}` signs in with it."
)


class AssetPasswordController(Controller):
    path = "/tenants/{tenant_id:uuid}/asset-auth/password"
    tags = ["asset-auth"]
    guards = [requires_scope(ADMIN_SCOPE)]

    @put("/", operation_id="putAssetPassword", summary="Set the Asset Manager password", description=_DESCRIPTION)
    async def put_password(self, request: AuthedRequest, tenant_id: uuid.UUID, data: PasswordBody,
                           db_session: AsyncSession) -> PasswordUpdatedResponse:
        return await self._set(request, tenant_id, data, db_session)

    @post("/", operation_id="postAssetPassword", status_code=200, summary="Set the Asset Manager password",
          description=_DESCRIPTION)
    async def post_password(self, request: AuthedRequest, tenant_id: uuid.UUID, data: PasswordBody,
                            db_session: AsyncSession) -> PasswordUpdatedResponse:
        return await self._set(request, tenant_id, data, db_session)

    async def _set(self, request: AuthedRequest, tenant_id: uuid.UUID, data: PasswordBody,
                   db_session: AsyncSession) -> PasswordUpdatedResponse:
        own_tenant(request.user, tenant_id)
        # counted and committed first, so a refused attempt counts too (and holds across processes)
        await run_in_worker_session(
            db_session, lambda s: asset_password.count_attempt(s, tenant_id, asset_password.SET_ATTEMPT), commit=True)
        updated = await run_in_worker_session(
            db_session, lambda s: asset_password.set_password(s, tenant_id, data.new_password, data.confirm_password),
            commit=True)
        forget_sessions()  # the old password's sessions were revoked: this process stops honouring them now
        return PasswordUpdatedResponse(data=PasswordUpdatedView(updated_at=updated))


ROUTES = [AssetPasswordController]
