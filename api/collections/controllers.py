"""`/collections`: the tenant's collections with counts and generations, a collection's field
catalog (what a search page builds its filters from), and one record."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.guards import requires_scope
from api.auth.principal import AuthedRequest
from api.collections.schemas import (
    CollectionAnswer,
    CollectionList,
    RecordAnswer,
    collection_detail_view,
    collection_view,
    record_view,
)
from api.worker_sessions import run_in_worker_session
from core.collections import browse


class CollectionController(Controller):
    path = "/collections"
    tags = ["collections"]
    guards = [requires_scope("tenant:read")]

    @get("/", operation_id="listCollections", summary="List collections",
         description="The caller's collections by name, each with the active generation's record count "
                     "and the staging generation of a pending replace (null when none).")
    async def list_collections(self, request: AuthedRequest, db_session: AsyncSession) -> CollectionList:
        tenant_id = request.user.tenant_id
        found = await run_in_worker_session(db_session, lambda s: browse.list_collections(s, tenant_id))
        return CollectionList(data=[collection_view(c) for c in found])

    @get("/{name:str}", operation_id="getCollection", summary="One collection and its fields",
         description="The collection with the field catalog of its active generation: each field's value "
                     "kinds, and for text fields that take at most a dozen values (in a sample of records) "
                     "those values. 404 for an unknown or another tenant's collection.")
    async def get_collection(self, request: AuthedRequest, db_session: AsyncSession, name: str) -> CollectionAnswer:
        tenant_id = request.user.tenant_id
        detail = await run_in_worker_session(db_session, lambda s: browse.describe_collection(s, tenant_id, name))
        return CollectionAnswer(data=collection_detail_view(detail))

    @get("/{name:str}/records/{record_id:uuid}", operation_id="getRecord", summary="One record",
         description="A record of the collection, whatever its generation or status; 404 for an unknown "
                     "or another tenant's record.")
    async def get_record(self, request: AuthedRequest, db_session: AsyncSession, name: str,
                         record_id: uuid.UUID) -> RecordAnswer:
        tenant_id = request.user.tenant_id
        record = await run_in_worker_session(db_session, lambda s: browse.get_record(s, tenant_id, name, record_id))
        return RecordAnswer(data=record_view(record))


ROUTES = [CollectionController]
