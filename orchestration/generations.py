"""Generations in Dagster: auto-promotion of ready staging generations, background archiving of the
records of dead generations, and a cleanup schedule (alias reconciliation, vector retention).

- `auto_promote_sensor` -> `promote_generation_job`: for collections whose settings have
  `auto_promote: true`, a fully indexed staging generation is swapped live through the same
  `core.generations.swap` the API calls (run_key `promote:<collection>:<generation>`, so once).
- `archive_records_sensor` -> `archive_generation_records_job`: after a swap (or cancel), the old
  generation's records are set archived in committed batches; the swap itself never touches them.
- `generation_cleanup_schedule` -> `generation_cleanup_job`: points every alias at its collection's
  active generation (repairing an interrupted swap on Qdrant), then drops vector collections of
  cancelled generations and of generations archived longer than `generation_retention_hours`.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import time
import uuid
from datetime import timedelta

import dagster as dg

from core import generations
from core.errors import Conflict
from core.vectors.base import VectorIndex
from core.vectors.factory import get_vector_index
from orchestration.collection_events import collection_events
from orchestration.requests import COLLECTION_TAG, IN_PROGRESS, TENANT_TAG
from orchestration.resources import DatabaseResource, SettingsResource

GENERATION_TAG = "kariz/generation"
AREA_TAGS = {"kariz/area": "generations"}


def promote_run_key(collection_id: uuid.UUID | str, generation: int) -> str:
    """The run key of the one promotion of a staging generation."""
    return f"promote:{collection_id}:{generation}"


def vector_index_for(database: DatabaseResource, settings: SettingsResource) -> VectorIndex:
    """The process-wide vector index (pgvector in the resource's database, or Qdrant)."""
    return get_vector_index(settings.get(), database_url=database.resolved_url)


class PromoteConfig(dg.Config):
    """The staging generation a promote run swaps live."""

    tenant_id: str
    collection_id: str
    collection_name: str
    generation: int


class ArchiveConfig(dg.Config):
    """The dead generation whose active records a run archives."""

    collection_id: str
    generation: int
    batch_size: int = generations.ARCHIVE_BATCH


@dg.op(description="Swap a fully indexed staging generation live (the API's swap, same function).")
def promote_staging_generation(
    context: dg.OpExecutionContext,
    config: PromoteConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> None:
    index = vector_index_for(database, settings)
    try:
        with collection_events(context), database.session() as session:
            result = generations.swap(
                session, uuid.UUID(config.tenant_id), config.collection_name, index, generation=config.generation
            )
    except Conflict as exc:  # swapped, cancelled or re-staged since the sensor looked: nothing to do
        context.log.info("promotion of %s generation %d skipped: %s", config.collection_name, config.generation, exc)
        context.add_output_metadata(
            {"outcome": "skipped", "reason": str(exc), "generation": config.generation}
        )
        return
    context.log.info(
        "promoted %s: generation %d -> %d in %.1f ms",
        result.collection,
        result.old_generation,
        result.new_generation,
        result.duration_ms,
    )
    context.add_output_metadata(
        {
            "outcome": "swapped",
            "collection_name": result.collection,
            "old_generation": result.old_generation,
            "new_generation": result.new_generation,
            "old_entity_count": result.old_entity_count,
            "new_entity_count": result.new_entity_count,
            "vector_collection": result.vector_collection,
            "swap_ms": dg.MetadataValue.float(result.duration_ms),
        }
    )


@dg.job(description="Promote one staging generation (auto-promote).", tags=AREA_TAGS)
def promote_generation_job() -> None:
    promote_staging_generation()


@dg.sensor(
    job=promote_generation_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Promotes staging generations of auto-promote collections once every record is indexed.",
)
def auto_promote_sensor(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SensorResult:
    with database.session() as session:
        candidates = generations.promotion_candidates(session)
    if not candidates:
        return dg.SensorResult(
            skip_reason="no auto-promote collection has a fully indexed staging generation"
        )
    context.log.info("%d staging generation(s) ready to promote", len(candidates))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=promote_run_key(c.collection_id, c.generation),
                run_config={
                    "ops": {
                        "promote_staging_generation": {
                            "config": {
                                "tenant_id": str(c.tenant_id),
                                "collection_id": str(c.collection_id),
                                "collection_name": c.collection_name,
                                "generation": c.generation,
                            }
                        }
                    }
                },
                tags={
                    TENANT_TAG: str(c.tenant_id),
                    COLLECTION_TAG: str(c.collection_id),
                    GENERATION_TAG: str(c.generation),
                },
            )
            for c in candidates
        ]
    )


@dg.op(description="Set the records of an archived or cancelled generation to archived, in batches.")
def archive_dead_generation_records(
    context: dg.OpExecutionContext, config: ArchiveConfig, database: DatabaseResource
) -> None:
    started = time.perf_counter()
    with database.session() as session:
        archived = generations.archive_generation_records(
            session, uuid.UUID(config.collection_id), config.generation, batch_size=config.batch_size
        )
    seconds = time.perf_counter() - started
    context.log.info(
        "archived %d records of collection %s generation %d in %.1f s",
        archived,
        config.collection_id,
        config.generation,
        seconds,
    )
    context.add_output_metadata(
        {
            "collection_id": config.collection_id,
            "generation": config.generation,
            "records_archived": archived,
            "batch_size": config.batch_size,
            "seconds": dg.MetadataValue.float(seconds),
        }
    )


@dg.job(description="Archive the records of one dead generation (after a swap or cancel).", tags=AREA_TAGS)
def archive_generation_records_job() -> None:
    archive_dead_generation_records()


def _archive_key(collection_id: uuid.UUID | str, generation: int) -> str:
    return f"{collection_id}:{generation}"


@dg.sensor(
    job=archive_generation_records_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts record archiving for archived or cancelled generations that still hold active records.",
)
def archive_records_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult:
    with database.session() as session:
        pending = generations.generations_awaiting_record_archival(session)
    requests = []
    for generation in pending:
        key = _archive_key(generation.collection_id, generation.number)
        # the job is idempotent and resumable: start one unless one is already on its way
        running = context.instance.get_run_records(
            dg.RunsFilter(
                job_name=archive_generation_records_job.name,
                statuses=IN_PROGRESS,
                tags={GENERATION_TAG: key},
            ),
            limit=1,
        )
        if running:
            continue
        requests.append(
            dg.RunRequest(
                run_config={
                    "ops": {
                        "archive_dead_generation_records": {
                            "config": {
                                "collection_id": str(generation.collection_id),
                                "generation": generation.number,
                            }
                        }
                    }
                },
                tags={
                    TENANT_TAG: str(generation.tenant_id),
                    COLLECTION_TAG: str(generation.collection_id),
                    GENERATION_TAG: key,
                },
            )
        )
    if not requests:
        return dg.SensorResult(skip_reason="no dead generation waits for its records to be archived")
    return dg.SensorResult(run_requests=requests)


@dg.op(description="Reconcile vector aliases with active generations; drop vectors past retention.")
def clean_up_generations(
    context: dg.OpExecutionContext, database: DatabaseResource, settings: SettingsResource
) -> None:
    index = vector_index_for(database, settings)
    retention = timedelta(hours=settings.get().generation_retention_hours)
    started = time.perf_counter()
    with database.session() as session:
        moved = generations.reconcile_aliases(session, index)
        dropped = generations.drop_expired_vectors(session, index, retention)
    seconds = time.perf_counter() - started
    context.log.info("reconciled %d alias(es), dropped %d vector collection(s)", len(moved), len(dropped))
    context.add_output_metadata(
        {
            "aliases_reconciled": len(moved),
            "alias_moves": dg.MetadataValue.json(moved),
            "vector_collections_dropped": len(dropped),
            "dropped": dg.MetadataValue.json(
                [
                    {"collection_id": d["collection_id"], "generation": d["number"], "status": d["status"]}
                    for d in dropped
                ]
            ),
            "retention_hours": retention.total_seconds() / 3600,
            "seconds": dg.MetadataValue.float(seconds),
        }
    )


@dg.job(description="Alias reconciliation and vector retention for generations.", tags=AREA_TAGS)
def generation_cleanup_job() -> None:
    clean_up_generations()


generation_cleanup_schedule = dg.ScheduleDefinition(
    name="generation_cleanup_schedule",
    job=generation_cleanup_job,
    cron_schedule="7 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly: repair vector aliases, drop vectors of dead generations past retention.",
)

defs = dg.Definitions(
    jobs=[promote_generation_job, archive_generation_records_job, generation_cleanup_job],
    sensors=[auto_promote_sensor, archive_records_sensor],
    schedules=[generation_cleanup_schedule],
)
