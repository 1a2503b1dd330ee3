"""Database connectors: register (credentials encrypted), list, pull (waiting or not), delete.

A pull is a work request that a Dagster run serves. By default the handler waits for the run and
answers the contract's result (200); with `?wait=false` (or `?async=true`), or when the run has not
finished within `timeout` seconds (e.g. no Dagster daemon is running), it answers 202 with the
request id to poll at `GET /connectors/{id}/pulls/{request_id}`.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Response, delete, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.guards import requires_scope
from api.auth.principal import AuthedRequest
from api.connectors.schemas import ConnectorView, PullView, connector_body, pull_body, wait_seconds
from api.worker_sessions import run_in_worker_session
from core.db.models import RequestStatus
from core.pulls.catalog import delete_connector, get_connector, list_connectors, register_connector
from core.pulls.spec import parse_connector_spec
from core.pulls.work import failure_of, get_pull, submit_pull, wait_for_pull

WRITE = requires_scope("tenant:write")


class ConnectorController(Controller):
    path = "/connectors"
    tags = ["connectors"]
    guards = [requires_scope("tenant:read")]

    @post("/", operation_id="createConnector", status_code=201, guards=[WRITE])
    async def create(
        self, request: AuthedRequest, db_session: AsyncSession, data: dict[str, Any]
    ) -> ConnectorView:
        """Register a connector; its `connection_config` is encrypted at rest and never shown again."""
        spec = parse_connector_spec(data)
        tenant_id = request.user.tenant_id
        connector = await run_in_worker_session(
            db_session, lambda s: register_connector(s, tenant_id, spec), commit=True
        )
        return connector_body(connector)

    @get("/", operation_id="listConnectors")
    async def list_all(self, request: AuthedRequest, db_session: AsyncSession) -> list[ConnectorView]:
        """This tenant's connectors (credentials redacted)."""
        tenant_id = request.user.tenant_id
        found = await run_in_worker_session(db_session, lambda s: list_connectors(s, tenant_id))
        return [connector_body(c) for c in found]

    @get("/{connector_id:uuid}", operation_id="getConnector")
    async def detail(
        self, request: AuthedRequest, db_session: AsyncSession, connector_id: uuid.UUID
    ) -> ConnectorView:
        """One connector (credentials redacted), with its last pull's outcome."""
        tenant_id = request.user.tenant_id
        return connector_body(
            await run_in_worker_session(db_session, lambda s: get_connector(s, tenant_id, connector_id))
        )

    @post("/{connector_id:uuid}/pull", operation_id="pullConnector", status_code=200, guards=[WRITE])
    async def pull(
        self,
        request: AuthedRequest,
        db_session: AsyncSession,
        connector_id: uuid.UUID,
        wait: bool = True,
        run_async: bool = Parameter(query="async", default=False),
        timeout: float | None = Parameter(query="timeout", default=None, ge=0),
    ) -> Response[PullView]:
        """Trigger a pull: the result when the run finishes in time (200), else 202 and the request id."""
        tenant_id = request.user.tenant_id
        queued = await run_in_worker_session(
            db_session, lambda s: submit_pull(s, tenant_id, connector_id), commit=True
        )
        seconds = wait_seconds(wait, run_async, timeout)
        row = queued
        if seconds > 0:
            row = await wait_for_pull(
                request.app.state.session_factory, tenant_id, queued.id, timeout=seconds
            )
        if row.status == RequestStatus.SUCCEEDED.value:
            return Response(pull_body(row, str(connector_id)), status_code=200)
        if row.status in (RequestStatus.FAILED.value, RequestStatus.CANCELLED.value):
            raise failure_of(row)
        return Response(pull_body(row, str(connector_id)), status_code=202)

    @get("/{connector_id:uuid}/pulls/{request_id:uuid}", operation_id="getConnectorPull")
    async def pull_status(
        self, request: AuthedRequest, db_session: AsyncSession, connector_id: uuid.UUID, request_id: uuid.UUID
    ) -> PullView:
        """Where a pull stands: queued, running (rows pulled so far), completed (the result) or failed."""
        tenant_id = request.user.tenant_id
        row = await run_in_worker_session(
            db_session, lambda s: get_pull(s, tenant_id, connector_id, request_id)
        )
        return pull_body(row, str(connector_id))

    @delete("/{connector_id:uuid}", operation_id="deleteConnector", status_code=204, guards=[WRITE])
    async def remove(self, request: AuthedRequest, db_session: AsyncSession, connector_id: uuid.UUID) -> None:
        """Delete the connector and its encrypted credentials (records already pulled stay)."""
        tenant_id = request.user.tenant_id
        await run_in_worker_session(
            db_session, lambda s: delete_connector(s, tenant_id, connector_id), commit=True
        )


ROUTES = [ConnectorController]
