"""The asset vault: an account's files (`/tenants/{tenantId}/accounts/{accountId}/files`).

A member's or viewer's credential reaches its own account's files only; another account's (or
another account's file) answers 404 like an unknown one. Admins and tenant-level keys reach all."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Response, delete, get, post
from litestar.concurrency import sync_to_thread
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.guards import own_account, own_tenant, requires_scope
from api.auth.principal import AuthedRequest
from api.envelopes import Pagination
from api.files.schemas import (
    FileDetailResponse,
    FileListResponse,
    FileResponse,
    file_view,
    upload_view,
)
from api.uploads import read_upload
from api.worker_sessions import run_in_worker_session
from core.documents import store, vault
from core.documents.vectors import drain_cleanup
from core.files import get_file_store
from core.settings import Settings


class AccountFilesController(Controller):
    path = "/tenants/{tenant_id:uuid}/accounts/{account_id:uuid}/files"
    tags = ["files"]

    @post("/", operation_id="uploadAccountFile", guards=[requires_scope("tenant:write")], status_code=201,
          summary="Upload a file to the account's vault",
          description="Multipart field `file`: PDF, TXT, Markdown or DOCX (checked by content), up to 50 MB "
          "(413), within the tenant's storage quota (402, nothing written). The same bytes again for the "
          "same account answer the existing file (200). `?sync=true` also queues it into the RAG store.")
    async def upload(
        self, request: AuthedRequest, tenant_id: uuid.UUID, account_id: uuid.UUID, db_session: AsyncSession,
        settings: Settings, data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        sync: bool = False,
    ) -> Response[FileResponse]:
        own_tenant(request.user, tenant_id)
        own_account(request.user, account_id)
        raw, filename = await read_upload(data)
        files = get_file_store(settings)

        def work(s):
            up = vault.upload_file(s, tenant_id, account_id, raw, filename, store=files,
                                   max_bytes=settings.max_upload_bytes)
            op = store.queue_operation(s, tenant_id, [up.file.id]) if sync else None
            return up, op

        up, op = await run_in_worker_session(db_session, work, commit=True)
        view = upload_view(up.file, created=up.created, operation_id=str(op.id) if op else None)
        return Response(FileResponse(data=view), status_code=201 if up.created else 200)

    @get("/", operation_id="listAccountFiles", guards=[requires_scope("tenant:read")],
         summary="List the account's files", description="Newest first, paged with `limit` (1-200) and `offset`.")
    async def list_files(
        self, request: AuthedRequest, tenant_id: uuid.UUID, account_id: uuid.UUID, db_session: AsyncSession,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50, offset: Annotated[int, Parameter(ge=0)] = 0,
    ) -> FileListResponse:
        own_tenant(request.user, tenant_id)
        own_account(request.user, account_id)
        rows, total = await run_in_worker_session(
            db_session,
            lambda s: vault.list_files(s, tenant_id, account_id, limit=limit, offset=offset))
        return FileListResponse(data=[file_view(f) for f in rows],
                                pagination=Pagination(limit=limit, offset=offset, total=total))

    @get("/{file_id:uuid}", operation_id="getAccountFile", guards=[requires_scope("tenant:read")],
         summary="One file of the account", description="The file's metadata and store state.")
    async def get_file(
        self, request: AuthedRequest, tenant_id: uuid.UUID, account_id: uuid.UUID, file_id: uuid.UUID,
        db_session: AsyncSession,
    ) -> FileDetailResponse:
        own_tenant(request.user, tenant_id)
        own_account(request.user, account_id)
        stored = await run_in_worker_session(
            db_session, lambda s: vault.get_file(s, tenant_id, file_id, account_id))
        return FileDetailResponse(data=file_view(stored))

    @get("/{file_id:uuid}/content", operation_id="downloadAccountFile", guards=[requires_scope("tenant:read")],
         media_type="application/octet-stream", summary="Download a file",
         description="The stored bytes, with the file's content type and name (as an attachment).",
         response_description="the file's bytes")
    async def download(
        self, request: AuthedRequest, tenant_id: uuid.UUID, account_id: uuid.UUID, file_id: uuid.UUID,
        db_session: AsyncSession, settings: Settings,
    ) -> Response[bytes]:
        own_tenant(request.user, tenant_id)
        own_account(request.user, account_id)
        stored = await run_in_worker_session(
            db_session, lambda s: vault.get_file(s, tenant_id, file_id, account_id))
        data = await sync_to_thread(get_file_store(settings).get, stored.storage_key)
        disposition = f"attachment; filename*=UTF-8''{quote(stored.name, safe='')}"
        return Response(data, media_type=stored.content_type, headers={"Content-Disposition": disposition})

    @delete("/{file_id:uuid}", operation_id="deleteAccountFile", guards=[requires_scope("tenant:write")],
            status_code=204, summary="Delete a file",
            description="Removes the bytes, the file's chunks and vectors, and writes a `file_deleted` event.")
    async def delete_file(
        self, request: AuthedRequest, tenant_id: uuid.UUID, account_id: uuid.UUID, file_id: uuid.UUID,
        db_session: AsyncSession, settings: Settings,
    ) -> None:
        own_tenant(request.user, tenant_id)
        own_account(request.user, account_id)
        key = await run_in_worker_session(
            db_session, lambda s: vault.delete_file(s, tenant_id, file_id, account_id=account_id), commit=True)
        files = get_file_store(settings)

        def purge(s):
            from core.search.hybrid import vector_index

            files.delete(key)
            drain_cleanup(s, tenant_id, vector_index())

        await run_in_worker_session(db_session, purge, commit=True)


# mounted under the app's upload router (its body limit is the upload limit plus multipart framing)
UPLOAD_ROUTES = [AccountFilesController]
