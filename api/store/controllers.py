"""The RAG store of a tenant (`/tenants/{tenantId}/store`): details, sync, progress, refresh, per-file
actions, the audit trail and retrieval.

A member's or viewer's credential sees and acts on its own account's files only (`bound_account`):
every route narrows to them, and another account's file id is answered as an unknown one. Admins
and tenant-level keys see the whole tenant."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.concurrency import sync_to_thread
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.guards import own_account, own_tenant, requires_scope
from api.auth.principal import AuthedRequest
from api.envelopes import Pagination
from api.store.schemas import (
    ActionResultView,
    ActionsBody,
    ActionsResponse,
    ActionsView,
    AssetIdsBody,
    AuditEventView,
    AuditResponse,
    OperationResponse,
    OperationView,
    ProgressResponse,
    QueryBody,
    QueryResponse,
    QueryView,
    RefreshBody,
    RefreshResponse,
    RefreshView,
    StoreResponse,
    chunk_view,
    progress_view,
    store_view,
)
from api.worker_sessions import run_in_worker_session
from core.documents import audit, retrieval, store
from core.documents.vectors import drain_cleanup
from core.errors import InvalidInput
from core.files import get_file_store
from core.settings import Settings


class StoreController(Controller):
    path = "/tenants/{tenant_id:uuid}/store"
    tags = ["store"]

    @get("/", operation_id="getStore", guards=[requires_scope("tenant:read")], summary="RAG store details",
         description="File counts by state, storage against the quota, chunk count, the last sync and the files.")
    async def details(self, request: AuthedRequest, tenant_id: uuid.UUID, db_session: AsyncSession) -> StoreResponse:
        own_tenant(request.user, tenant_id)
        bound = request.user.bound_account
        summary = await run_in_worker_session(db_session, lambda s: store.summary(s, tenant_id, account_id=bound))
        return StoreResponse(data=store_view(summary))

    @post("/sync", operation_id="syncStore", guards=[requires_scope("tenant:write")], status_code=202,
          summary="Sync vault files into the RAG store",
          description="`assetIds`: the tenant's file ids. A Dagster run extracts, chunks, embeds and indexes "
          "them; follow it at `/store/progress`. Unknown or another tenant's ids: 404 listing them, nothing queued.")
    async def sync(self, request: AuthedRequest, tenant_id: uuid.UUID, data: AssetIdsBody,
                   db_session: AsyncSession) -> OperationResponse:
        own_tenant(request.user, tenant_id)
        bound = request.user.bound_account
        op = await run_in_worker_session(
            db_session, lambda s: store.queue_operation(s, tenant_id, data.asset_ids, account_id=bound), commit=True)
        return OperationResponse(data=OperationView(operation_id=str(op.id), status=op.status, total=op.total))

    @get("/progress", operation_id="getStoreProgress", guards=[requires_scope("tenant:read")],
         summary="Progress of the latest store operation",
         description="idle, in_progress, completed or failed, with percent, counts, ETA and the current file. "
         "One indexed read: poll it every 1.5 s.")
    async def progress(self, request: AuthedRequest, tenant_id: uuid.UUID, db_session: AsyncSession) -> ProgressResponse:
        own_tenant(request.user, tenant_id)
        bound = request.user.bound_account

        def latest(s):
            op = store.latest_operation(s, tenant_id, account_id=bound)
            # the file being synced is named only to those who may see it
            hide = (bound is not None and op is not None and op.current_file_id is not None
                    and not store.tenant_files(s, tenant_id, [op.current_file_id], account_id=bound))
            return op, hide

        op, hide_current = await run_in_worker_session(db_session, latest)
        return ProgressResponse(data=progress_view(op, datetime.now(UTC), hide_current_file=hide_current))

    @post("/refresh", operation_id="refreshStore", guards=[requires_scope("tenant:write")], status_code=200,
          summary="Re-read file metadata", description="Re-reads size and sha256 of the store's files (or "
          "`assetIds`) from the file store and queues a re-sync of those whose content changed.")
    async def refresh(self, request: AuthedRequest, tenant_id: uuid.UUID, db_session: AsyncSession,
                      settings: Settings, data: RefreshBody | None = None) -> RefreshResponse:
        own_tenant(request.user, tenant_id)
        files = get_file_store(settings)
        ids = data.asset_ids if data is not None else None
        bound = request.user.bound_account
        result = await run_in_worker_session(
            db_session, lambda s: store.refresh(s, tenant_id, ids, files=files, account_id=bound), commit=True)
        return RefreshResponse(data=RefreshView(checked=result.checked, changed=result.changed,
                                                operation_id=str(result.operation.id) if result.operation else None))

    @post("/files/actions", operation_id="storeFileActions", guards=[requires_scope("tenant:write")],
          status_code=200, summary="Exclude, include, delete or resync files",
          description="Per-file results: a file that is not the tenant's or not in the store fails alone. "
          "Excluded files keep their chunks but are never retrieved; `delete` removes chunks and vectors "
          "(the vault keeps the file); `resync` queues a sync operation.")
    async def actions(self, request: AuthedRequest, tenant_id: uuid.UUID, data: ActionsBody,
                      db_session: AsyncSession) -> ActionsResponse:
        own_tenant(request.user, tenant_id)
        bound = request.user.bound_account
        results, op = await run_in_worker_session(
            db_session, lambda s: store.apply_action(s, tenant_id, data.action, data.file_ids, account_id=bound),
            commit=True)
        if data.action == "delete":
            def purge(s):
                from core.search.hybrid import vector_index

                drain_cleanup(s, tenant_id, vector_index())

            await run_in_worker_session(db_session, purge, commit=True)
        return ActionsResponse(data=ActionsView(
            results=[ActionResultView(file_id=str(r.file_id), ok=r.ok, error=r.error) for r in results],
            operation_id=str(op.id) if op else None,
        ))

    @get("/audit", operation_id="getStoreAudit", guards=[requires_scope("tenant:read")],
         summary="The store's audit trail", description="Newest first; `assetId` filters one file.")
    async def audit_log(
        self, request: AuthedRequest, tenant_id: uuid.UUID, db_session: AsyncSession,
        asset_id: Annotated[uuid.UUID | None, Parameter(query="assetId")] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100, offset: Annotated[int, Parameter(ge=0)] = 0,
    ) -> AuditResponse:
        own_tenant(request.user, tenant_id)
        bound = request.user.bound_account
        rows, total = await run_in_worker_session(
            db_session, lambda s: audit.list_events(s, tenant_id, asset_id=asset_id, account_id=bound,
                                                    limit=limit, offset=offset))
        return AuditResponse(
            data=[AuditEventView(id=e.id, event=e.event, asset_id=str(e.asset_id) if e.asset_id else None,
                                 account_id=str(e.account_id) if e.account_id else None,
                                 operation_id=str(e.operation_id) if e.operation_id else None, at=e.at,
                                 details=e.details) for e in rows],
            pagination=Pagination(limit=limit, offset=offset, total=total),
        )

    @post("/query", operation_id="queryStore", guards=[requires_scope("tenant:read")], status_code=200,
          summary="Retrieve the best chunks for a query",
          description="Hybrid ranking (full text and vectors, fused as record search does) over the tenant's "
          "store; `accountId` and `fileIds` narrow it. Excluded and deleted files are never returned.")
    async def query(self, request: AuthedRequest, tenant_id: uuid.UUID, data: QueryBody,
                    db_session: AsyncSession) -> QueryResponse:
        own_tenant(request.user, tenant_id)
        bound = request.user.bound_account
        account_id = data.account_id
        if bound is not None:  # a member or viewer retrieves from its own account's files only
            if account_id is not None:
                own_account(request.user, account_id)
            account_id = bound
        text = data.query.strip()
        if not text:
            raise InvalidInput("query must not be empty")
        if not 1 <= data.limit <= retrieval.MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {retrieval.MAX_LIMIT}")
        if len(text) <= retrieval.MAX_QUERY_CHARS:
            from core.search.hybrid import query_vector

            # the model runs off the event loop; retrieve() then finds the vector cached (or falls
            # back to full text when the model is down)
            with contextlib.suppress(Exception):
                await sync_to_thread(query_vector, text)
        hits = await run_in_worker_session(db_session, lambda s: retrieval.retrieve(
            s, tenant_id, text, account_id=account_id, file_ids=data.file_ids, limit=data.limit))
        return QueryResponse(data=QueryView(query=text, results=[chunk_view(h) for h in hits]))


ROUTES = [StoreController]
