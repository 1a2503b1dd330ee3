"""`GET /admin/stats`, `POST /admin/reindex/{collection}` and `POST /admin/reindex/record/{id}`.

Scope as in `/admin/tenants`: callers with `admin` see their own tenant, operators (`system:admin`)
the whole platform. Reindexing a collection queues a `reindex` work request that a Dagster run of
`reindex_collection_job` (partition = collection id) serves; one record is rebuilt at once.
"""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from api.admin.schemas import (
    CollectionReindexView,
    IndexingStatus,
    RecordReindexView,
    RecordsByStatus,
    StatsView,
)
from api.auth.guards import requires_scope
from api.auth.principal import AuthedRequest
from api.worker_sessions import run_in_worker_session
from core.admin import platform_stats, queue_collection_reindex
from core.records import reindex_record
from core.security.api_keys import ADMIN_SCOPE


class AdminController(Controller):
    path = "/admin"
    tags = ["admin"]
    guards = [requires_scope(ADMIN_SCOPE)]

    @get("/stats", operation_id="adminStats")
    async def stats(self, request: AuthedRequest, db_session: AsyncSession) -> StatsView:
        """Records by status, active records by embedding status and the queue depth: of the whole
        platform for operators, of your own tenant otherwise. Figures past 10,000 are the planner's
        estimates (`counts_exact: false`)."""
        scope = None if request.user.is_system else [request.user.tenant_id]
        found = await run_in_worker_session(db_session, lambda s: platform_stats(s, scope))
        return StatsView(
            total_records=found.total_records,
            records_by_status=RecordsByStatus(**found.records_by_status),
            indexing_status=IndexingStatus(**found.indexing_status),
            queue_depth=found.queue_depth,
            counts_exact=found.exact,
        )

    @post("/reindex/{collection:str}", operation_id="adminReindexCollection", status_code=200)
    async def reindex_collection(
        self, request: AuthedRequest, db_session: AsyncSession, collection: str
    ) -> CollectionReindexView:
        """Queue a rebuild of search_text (and identifiers) of every record of the collection; the
        records then go back to the embedding queue. `records_reset` is counted now, the rebuild runs
        in Dagster."""
        tenant_id = request.user.tenant_id
        queued = await run_in_worker_session(
            db_session, lambda s: queue_collection_reindex(s, tenant_id, collection), commit=True
        )
        return CollectionReindexView(
            collection=queued.collection,
            records_reset=queued.records_reset,
            message="All records queued for reindexing",
            request_id=str(queued.request_id),
        )

    @post("/reindex/record/{record_id:uuid}", operation_id="adminReindexRecord", status_code=200)
    async def reindex_one(
        self, request: AuthedRequest, db_session: AsyncSession, record_id: uuid.UUID
    ) -> RecordReindexView:
        """Rebuild one record's search_text now and queue it for embedding (404 when the record is
        not yours)."""
        tenant_id = request.user.tenant_id
        await run_in_worker_session(db_session, lambda s: reindex_record(s, tenant_id, record_id), commit=True)
        return RecordReindexView(
            record_id=str(record_id), status="pending", message="Record queued for reindexing"
        )


ROUTES = [AdminController]
