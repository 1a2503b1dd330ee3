"""`rag_store_chunks`: the chunks and vectors of a tenant's RAG store, one partition per tenant.

A run launched by `store_operation_sensor` serves one API operation (`operation_id` in its config);
a materialization from the UI or a backfill (no operation) re-syncs every file of the tenant's store
(re-embedding even unchanged files). Metadata: files, pages, chunks, failures, chunks/s.

`store_vectors_match_chunks` checks every tenant's store: its vector collection must hold exactly as
many points as the tenant has chunks (the cleanup list drained first).
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import uuid

import dagster as dg
import sqlalchemy as sa

from assets.documents.partitions import STORE_TENANTS
from core.documents import store
from core.documents.sync import run_operation
from core.documents.vectors import store_collection_name
from core.embeddings.factory import get_embedding_provider
from core.files import get_file_store
from core.vectors.factory import get_vector_index
from orchestration.resources import DatabaseResource, SettingsResource


class StoreSyncConfig(dg.Config):
    """The operation a run serves; empty for a re-sync of the whole store (UI, backfill)."""

    operation_id: str = ""


def _backfill_operation(database: DatabaseResource, tenant_id: uuid.UUID) -> uuid.UUID | None:
    with database.session() as session:
        ids = list(session.execute(
            sa.text("SELECT id FROM files WHERE tenant_id = :t AND in_store ORDER BY created_at"), {"t": tenant_id}
        ).scalars())
        if not ids:
            return None
        return store.queue_operation(session, tenant_id, ids, kind="resync").id


@dg.asset(
    name="rag_store_chunks",
    partitions_def=STORE_TENANTS,
    group_name="documents",
    kinds={"python", "postgres"},
    description="Chunks (full text) and vectors of a tenant's RAG store (partition = tenant id); "
    "a run serves one store operation, a backfill re-syncs the whole store.",
)
def rag_store_chunks(
    context: dg.AssetExecutionContext,
    config: StoreSyncConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> dg.MaterializeResult:
    tenant_id = uuid.UUID(context.partition_key)
    if config.operation_id:
        operation_id = uuid.UUID(config.operation_id)
    else:
        operation_id = _backfill_operation(database, tenant_id)
        if operation_id is None:
            return dg.MaterializeResult(metadata={"files": 0, "note": "the store holds no files"})
    current = settings.get()
    report = run_operation(
        database.engine, operation_id,
        provider=get_embedding_provider(current),
        index=get_vector_index(current, database_url=database.resolved_url),
        files=get_file_store(current),
        run_id=context.run_id,
        on_file=lambda f: context.log.info("tenant %s: syncing file %s", tenant_id, f.id),
    )
    context.log.info("tenant %s operation %s: %d synced, %d skipped, %d failed, %d chunks, %.1f chunks/s",
                     tenant_id, operation_id, report.synced, report.skipped, report.failed, report.chunks,
                     report.chunks_per_second)
    return dg.MaterializeResult(metadata={
        **report.to_metadata(), "operation_id": str(operation_id),
        "failures": dg.MetadataValue.json(report.errors[:50]),
    })


@dg.asset_check(
    asset=rag_store_chunks,
    name="store_vectors_match_chunks",
    description="Every tenant's store vector collection holds exactly as many points as it has chunks.",
)
def store_vectors_match_chunks(
    context: dg.AssetCheckExecutionContext, database: DatabaseResource, settings: SettingsResource
) -> dg.AssetCheckResult:
    index = get_vector_index(settings.get(), database_url=database.resolved_url)
    with database.session() as session:
        rows = session.execute(sa.text(
            "SELECT t.id, (SELECT count(*) FROM file_chunks c WHERE c.tenant_id = t.id) AS chunks, "
            "(SELECT count(*) FROM store_vector_cleanup v WHERE v.tenant_id = t.id) AS in_cleanup "
            "FROM tenants t WHERE EXISTS (SELECT 1 FROM files f WHERE f.tenant_id = t.id AND f.in_store)"
        )).all()
    mismatched = []
    for tenant_id, chunks, in_cleanup in rows:
        name = store_collection_name(tenant_id)
        vectors = index.count(name) if index.collection_exists(name) else 0
        if vectors != chunks and not in_cleanup:
            mismatched.append({"tenant": str(tenant_id), "chunks": chunks, "vectors": vectors})
    if mismatched:
        context.log.warning("%d store(s) disagree with their vector collections", len(mismatched))
    return dg.AssetCheckResult(
        passed=not mismatched,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"stores_checked": len(rows), "mismatched": len(mismatched),
                  "mismatches": dg.MetadataValue.json(mismatched[:100])},
    )
