"""Status of background work, and the tenant housekeeping trigger."""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.guards import own_tenant, requires_scope
from api.auth.principal import AuthedRequest
from api.requests.schemas import QueuedRequest, RequestView, request_view
from api.worker_sessions import run_in_worker_session
from core.requests import get_request, submit_request
from core.security.api_keys import ADMIN_SCOPE


class WorkRequestController(Controller):
    path = "/requests"
    tags = ["requests"]
    guards = [requires_scope("tenant:read")]

    @get("/{request_id:uuid}", operation_id="getRequest")
    async def status(self, request: AuthedRequest, request_id: uuid.UUID, db_session: AsyncSession) -> RequestView:
        """Where a piece of background work stands: status, progress, result or error."""
        tenant_id = request.user.tenant_id
        row = await run_in_worker_session(db_session, lambda s: get_request(s, tenant_id, request_id))
        return request_view(row)


class HousekeepingController(Controller):
    path = "/tenants/{tenant_id:uuid}/housekeeping"
    tags = ["tenants"]
    guards = [requires_scope(ADMIN_SCOPE)]

    @post("/", operation_id="requestHousekeeping", status_code=202)
    async def trigger(self, request: AuthedRequest, tenant_id: uuid.UUID, db_session: AsyncSession) -> QueuedRequest:
        """Queue a housekeeping run for the tenant; poll `/requests/{request_id}`."""
        own_tenant(request.user, tenant_id)
        row = await run_in_worker_session(
            db_session, lambda s: submit_request(s, tenant_id=tenant_id, kind="housekeeping"), commit=True
        )
        return QueuedRequest(request_id=str(row.id), status=row.status)


ROUTES = [WorkRequestController, HousekeepingController]
