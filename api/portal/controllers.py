"""Portal routes of the blue-green replace: upload into a staging generation, watch it get indexed,
swap it live or cancel it. Each handler calls one function of `core.generations` in a worker thread."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post, put
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.guards import requires_scope
from api.auth.principal import AuthedRequest
from api.portal.schemas import (
    AutoPromoteBody,
    AutoPromoteView,
    CancelView,
    ReplaceStarted,
    ReplaceStatusView,
    SwapView,
)
from api.uploads import read_upload
from api.worker_sessions import run_in_worker_session
from core import generations
from core.security.api_keys import ADMIN_SCOPE
from core.settings import Settings
from core.vectors.factory import get_vector_index


class ReplaceController(Controller):
    path = "/portal/verticals"
    tags = ["blue-green replace"]
    # portal JWTs and admin API keys both carry the tenant-level admin scope
    guards = [requires_scope(ADMIN_SCOPE)]

    @post(
        "/{name:str}/replace",
        operation_id="startReplace",
        status_code=200,
    )
    async def replace(
        self,
        request: AuthedRequest,
        db_session: AsyncSession,
        settings: Settings,
        name: str,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        entity_type: str | None = None,
        source_name: str | None = None,
        record_tag: str | None = None,
        key_column: str | None = None,
    ) -> ReplaceStarted:
        """Upload a file (CSV, JSON, NDJSON, XML, PDF; multipart field `file`) into a new staging
        generation of the vertical; the live generation stays searchable and untouched. A keyed
        vertical (or `key_column`) keys the new records, and replace-status and the swap then say
        how many records are added, changed and removed."""
        content, filename = await read_upload(data)
        tenant_id = request.user.tenant_id
        index = get_vector_index(settings)
        started = await run_in_worker_session(
            db_session,
            lambda s: generations.start_replace(
                s,
                tenant_id=tenant_id,
                collection_name=name,
                data=content,
                filename=filename,
                entity_type=entity_type,
                source_name=source_name,
                record_tag=record_tag,
                index=index,
                settings=settings,
                key_column=key_column,
            ),
        )
        return ReplaceStarted.of(started)

    @get("/{name:str}/replace-status", operation_id="getReplaceStatus")
    async def replace_status(
        self, request: AuthedRequest, db_session: AsyncSession, name: str
    ) -> ReplaceStatusView:
        """Embedding progress of the pending replace; every field null when none is pending."""
        tenant_id = request.user.tenant_id
        progress = await run_in_worker_session(
            db_session, lambda s: generations.replace_status(s, tenant_id, name)
        )
        return ReplaceStatusView.of(progress)

    @post("/{name:str}/swap", operation_id="swapGeneration", status_code=200)
    async def swap(
        self, request: AuthedRequest, db_session: AsyncSession, settings: Settings, name: str
    ) -> SwapView:
        """Promote the fully indexed staging generation: PostgreSQL and the vector alias switch together."""
        tenant_id = request.user.tenant_id
        index = get_vector_index(settings)
        result = await run_in_worker_session(
            db_session, lambda s: generations.swap(s, tenant_id, name, index)
        )
        return SwapView.of(result)

    @post("/{name:str}/cancel-replace", operation_id="cancelReplace", status_code=200)
    async def cancel_replace(
        self, request: AuthedRequest, db_session: AsyncSession, settings: Settings, name: str
    ) -> CancelView:
        """Archive the staging generation's records and drop its vector collection."""
        tenant_id = request.user.tenant_id
        index = get_vector_index(settings)
        result = await run_in_worker_session(
            db_session, lambda s: generations.cancel_replace(s, tenant_id, name, index)
        )
        return CancelView.of(result)

    @put("/{name:str}/auto-promote", operation_id="setAutoPromote")
    async def auto_promote(
        self, request: AuthedRequest, db_session: AsyncSession, name: str, data: AutoPromoteBody
    ) -> AutoPromoteView:
        """Let Dagster promote this vertical's staging generation as soon as it is fully indexed."""
        tenant_id = request.user.tenant_id
        await run_in_worker_session(
            db_session, lambda s: generations.set_auto_promote(s, tenant_id, name, data.enabled), commit=True
        )
        return AutoPromoteView(vertical=name, auto_promote=data.enabled)


# mounted with the upload body limit: `replace` takes a file
UPLOAD_ROUTES = [ReplaceController]
