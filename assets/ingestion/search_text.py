"""`collection_search_text`: what makes a collection's records findable by full text and identifier
(`search_text`, `identifiers`, the field catalog), one partition per collection.

The partitions are `collections` (key = `<tenant name>/<collection>`), the same set as
`collection_embeddings`: both describe one collection, so one set serves both and an operator picks
collections once in the UI. Materializing a partition rebuilds every record of the collection (all
generations) with `core.records.reindex_collection`, which also puts them back to
`embedding_status='pending'`; the embedding sensor then re-embeds them (no second run needed here).

A run launched for `POST /admin/reindex/{collection}` carries the work request's id in its config and
reports through it; a backfill from the UI has none.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

from typing import Any, Optional

import dagster as dg

from assets.embeddings.partitions import COLLECTION_PARTITIONS, partition_collection
from core.admin.reindex import REINDEX_ASSET
from core.db.models import WorkRequest
from core.errors import InvalidInput
from core.records import reindex_collection
from core.requests import serve_request
from orchestration.resources import DatabaseResource


class ReindexConfig(dg.Config):
    """The work request the run serves (none for a backfill started from the UI)."""

    request_id: Optional[str] = None  # noqa: UP045 - Dagster's config types want Optional here


@dg.asset(
    name=REINDEX_ASSET,
    partitions_def=COLLECTION_PARTITIONS,
    deps=["collection_records"],
    group_name="ingestion",
    kinds={"postgres"},
    description="Full-text search text and identifiers of a collection's records (partition = `<tenant name>/<collection>`); "
    "materializing a partition rebuilds them and queues the records for re-embedding.",
)
def collection_search_text(
    context: dg.AssetExecutionContext, config: ReindexConfig, database: DatabaseResource
) -> dg.MaterializeResult:
    names = partition_collection(database, context.partition_key)
    tenant_id, collection_id, name = names.tenant_id, names.collection_id, names.collection

    def rebuild() -> dict[str, Any]:
        with database.session() as session:
            rebuilt = reindex_collection(session, tenant_id, collection_id)
        return {"collection": name, "collection_id": str(collection_id), "records_reset": rebuilt}

    def serve(request: WorkRequest) -> dict[str, Any]:
        if request.tenant_id != tenant_id or request.collection_id != collection_id:
            raise InvalidInput("request is not for this collection")
        return rebuild()

    if config.request_id:
        try:
            result = serve_request(database.session, config.request_id, context.run_id, serve, what="reindex")
        except InvalidInput as refused:  # the request failed saying so; no retry makes it fit
            raise dg.Failure(refused.message, allow_retries=False) from None
    else:
        result = rebuild()
    context.log.info(
        "rebuilt search text of %d records of %s (tenant %s)", result["records_reset"], name, tenant_id
    )
    return dg.MaterializeResult(
        metadata={
            **result,
            "tenant_id": str(tenant_id),
            "request_id": config.request_id or "",
            "embedding": "records queued again (embedding_status=pending)",
        }
    )
