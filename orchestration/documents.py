"""The RAG store in Dagster: API store operations become runs of `rag_store_sync_job`.

- `store_operation_sensor`: operations no run has started (`store_operations`, written by
  `POST /store/sync`, `/refresh`, `/files/actions`, uploads with `?sync=true`) get one run each,
  run_key = operation id, partition = tenant id (added to `store_tenants` first), tagged
  `kariz/tenant` and `kariz/operation`.
- `store_run_failure_sensor`: a run that died fails its operation, and its files still syncing go
  back to what they were (their old chunks stay searchable).
- Backfilling `rag_store_chunks` partitions from the UI re-syncs whole stores.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import uuid

import dagster as dg

from assets.documents import rag_store_chunks
from assets.documents.partitions import STORE_TENANTS
from core.documents import store
from core.documents.sync import abandon_operation
from orchestration.partitions import missing_partitions
from orchestration.requests import TENANT_TAG
from orchestration.resources import DatabaseResource

OPERATION_TAG = "kariz/operation"
AREA_TAGS = {"kariz/area": "documents"}

rag_store_sync_job = dg.define_asset_job(
    name="rag_store_sync_job",
    selection=dg.AssetSelection.assets(rag_store_chunks),
    partitions_def=STORE_TENANTS,
    tags=AREA_TAGS,
    description="Sync files into one tenant's RAG store (launched by store_operation_sensor).",
)


def store_run_config(operation_id: uuid.UUID | str) -> dict:
    return {"ops": {"rag_store_chunks": {"config": {"operation_id": str(operation_id)}}}}


@dg.sensor(
    name="store_operation_sensor",
    job=rag_store_sync_job,
    minimum_interval_seconds=3,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches one rag_store_sync_job run per queued store operation (run_key = operation id).",
)
def store_operation_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult:
    with database.session() as session:
        ops = store.queued_operations(session)
    if not ops:
        return dg.SensorResult(skip_reason="no queued store operations")
    new = missing_partitions(context.instance, STORE_TENANTS, {str(op.tenant_id) for op in ops})
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=str(op.id),
                partition_key=str(op.tenant_id),
                run_config=store_run_config(op.id),
                tags={TENANT_TAG: str(op.tenant_id), OPERATION_TAG: str(op.id), **AREA_TAGS},
            )
            for op in ops
        ],
        dynamic_partitions_requests=new.requests,
    )


@dg.run_failure_sensor(
    name="store_run_failure_sensor",
    monitor_all_code_locations=False,
    monitored_jobs=[rag_store_sync_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fails the store operation of a run that died, restoring its files' states.",
)
def store_run_failure_sensor(context: dg.RunFailureSensorContext, database: DatabaseResource) -> None:
    operation_id = context.dagster_run.tags.get(OPERATION_TAG)
    if not operation_id:
        return
    with database.session() as session:
        abandon_operation(session, uuid.UUID(operation_id), context.failure_event.message or "run failed")


defs = dg.Definitions(jobs=[rag_store_sync_job], sensors=[store_operation_sensor, store_run_failure_sensor])
