"""Asynchronous exports: start, poll, download, list active. A Dagster run writes the file."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.response import File
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.guards import requires_scope
from api.auth.principal import AuthedRequest
from api.exports.schemas import (
    ActiveExport,
    ExportStarted,
    ExportStatus,
    active_view,
    started_view,
    status_view,
)
from api.worker_sessions import run_in_worker_session
from core.exports import active_exports, export_file, get_export, start_export
from core.security.api_keys import ADMIN_SCOPE
from core.settings import Settings


class ExportController(Controller):
    path = "/export"
    tags = ["exports"]
    # the contract lists exports under the Admin API: the tenant-level admin scope
    guards = [requires_scope(ADMIN_SCOPE)]

    @post("/", operation_id="startExport", status_code=202)
    async def start(
        self,
        request: AuthedRequest,
        db_session: AsyncSession,
        collection: str,
        format: str = "json",
        status: str = "active",
    ) -> ExportStarted:
        """Start exporting a collection (csv or json; active, archived or draft records)."""
        tenant_id = request.user.tenant_id
        row = await run_in_worker_session(
            db_session,
            lambda s: start_export(s, tenant_id, collection, format=format, status=status),
            commit=True,
        )
        return started_view(row)

    @get("/active", operation_id="listActiveExports")
    async def active(self, request: AuthedRequest, db_session: AsyncSession) -> list[ActiveExport]:
        """This tenant's exports still processing."""
        tenant_id = request.user.tenant_id
        found = await run_in_worker_session(db_session, lambda s: active_exports(s, tenant_id))
        return [active_view(row) for row in found]

    @get("/{export_id:str}/status", operation_id="getExportStatus")
    async def status(
        self, request: AuthedRequest, db_session: AsyncSession, export_id: str
    ) -> ExportStatus:
        """Progress of an export: processing, completed, failed (with `error`) or expired."""
        tenant_id = request.user.tenant_id
        return status_view(
            await run_in_worker_session(db_session, lambda s: get_export(s, tenant_id, export_id))
        )

    @get("/{export_id:str}/download", operation_id="downloadExport", media_type="application/octet-stream")
    async def download(
        self, request: AuthedRequest, db_session: AsyncSession, settings: Settings, export_id: str
    ) -> File:
        """The export file, streamed; 409 while still processing."""
        tenant_id = request.user.tenant_id
        row = await run_in_worker_session(db_session, lambda s: get_export(s, tenant_id, export_id))
        assert settings.export_dir is not None
        found = export_file(row, settings.export_dir)
        return File(
            found.path,
            filename=found.filename,
            media_type=found.content_type,
            content_disposition_type="attachment",
        )


ROUTES = [ExportController]
