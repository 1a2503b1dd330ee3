"""`collection_embeddings`: the vectors of a collection's live generations, one partition per collection.

A materialization re-embeds the collection: every record of its active and staging generations is
queued again (`reset`, the default, for backfills from the UI) and the embedding pipeline drains it,
reporting claimed/indexed/failed, texts/s and the queue by status. Day-to-day embedding of new
records does not go through here: the embedding sensor runs `embed_collection_job` for pending work.
Its checks (vectors = indexed records, no stale pending record) are in `assets/collection_checks.py`.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import uuid

import dagster as dg

from assets.embeddings.partitions import COLLECTION_PARTITIONS, partition_collection
from core.embeddings import queue
from core.embeddings.factory import get_embedding_provider
from core.embeddings.pipeline import PipelineOptions, run_embedding_pipeline
from core.vectors.factory import get_vector_index
from orchestration.resources import DatabaseResource, SettingsResource

_DEFAULTS = PipelineOptions()


class ReembedConfig(dg.Config):
    """`reset`: queue every record again first (a re-embed); off, only pending work is embedded."""

    reset: bool = True
    batch_size: int = _DEFAULTS.batch_size


def embedded_share(database: DatabaseResource, collection_id: uuid.UUID) -> dict[str, float | int]:
    """Active records of the live generation, how many are indexed, and the share (%)."""
    with database.session() as session:
        return queue.embedded_share(session, collection_id)


@dg.asset(
    name="collection_embeddings",
    partitions_def=COLLECTION_PARTITIONS,
    deps=["collection_search_text"],
    group_name="embeddings",
    kinds={"python"},
    description="Vectors of a collection's active and staging generations (partition = `<tenant name>/<collection>`); "
    "materializing a partition re-embeds that collection.",
)
def collection_embeddings(
    context: dg.AssetExecutionContext,
    config: ReembedConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> dg.MaterializeResult:
    names = partition_collection(database, context.partition_key)
    tenant_id, collection_id = names.tenant_id, names.collection_id
    reset = 0
    if config.reset:
        with database.session() as session:
            reset = queue.reset_for_reembedding(session, tenant_id, collection_id)
        context.log.info("queued %d records of collection %s for re-embedding", reset, collection_id)
    current = settings.get()
    report = run_embedding_pipeline(
        database.engine,
        tenant_id,
        collection_id,
        provider=get_embedding_provider(current),
        index=get_vector_index(current, database_url=database.resolved_url),
        options=PipelineOptions(batch_size=config.batch_size),
    )
    metadata = {
        **report.to_metadata(),
        **embedded_share(database, collection_id),
        "records_reset": reset,
        "tenant": names.tenant_name,
        "tenant_id": str(tenant_id),
        "collection_id": str(collection_id),
    }
    if report.stopped:
        raise dg.Failure(description=f"re-embedding stopped: {report.stopped}", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)
