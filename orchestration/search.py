"""Search in Dagster: field indexes (`core/search/field_indexes.py`) built and dropped in the background.

- `field_index_sensor` -> `field_index_job`: when an active generation of at least
  `search_field_index_min_records` records lacks the typed indexes its field catalog wants (after an
  ingestion or a swap), or an index belongs to a generation that is no longer active, one run builds
  and drops them CONCURRENTLY. The run key is the pending work and the hour, so the same work is
  requested once an hour at most (a failed build is retried the next hour), and no run starts while
  one is on its way.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import hashlib
import time

import dagster as dg

from core.search.field_indexes import maintain_field_indexes, pending_work
from orchestration.requests import IN_PROGRESS
from orchestration.resources import DatabaseResource, SettingsResource

AREA_TAGS = {"kariz/area": "search"}


@dg.op(description="Build the field indexes large active generations want; drop those no generation wants.")
def maintain_search_field_indexes(
    context: dg.OpExecutionContext, database: DatabaseResource, settings: SettingsResource
) -> None:
    config = settings.get()
    started = time.perf_counter()
    result = maintain_field_indexes(
        database.engine,
        min_records=config.search_field_index_min_records,
        max_fields=config.search_field_index_max,
    )
    seconds = time.perf_counter() - started
    context.log.info(
        "field indexes: %d built, %d dropped in %.1f s%s",
        len(result.built),
        len(result.dropped),
        seconds,
        " (another pass was running)" if result.busy else "",
    )
    context.add_output_metadata(
        {
            "built": dg.MetadataValue.json(result.built),
            "dropped": dg.MetadataValue.json(result.dropped),
            "statistics_changed": len(result.statistics),
            "busy": result.busy,
            "seconds": dg.MetadataValue.float(seconds),
        }
    )


@dg.job(
    description="Build and drop field indexes of search (one pass over every collection).", tags=AREA_TAGS
)
def field_index_job() -> None:
    maintain_search_field_indexes()


@dg.sensor(
    job=field_index_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a field index pass when an active generation lacks its indexes or a dead one holds some.",
)
def field_index_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource, settings: SettingsResource
) -> dg.SensorResult:
    config = settings.get()
    with database.engine.connect() as conn:
        work = pending_work(
            conn, min_records=config.search_field_index_min_records, max_fields=config.search_field_index_max
        )
    if not work:
        return dg.SensorResult(skip_reason="every large active generation has its field indexes")
    running = context.instance.get_run_records(
        dg.RunsFilter(job_name=field_index_job.name, statuses=IN_PROGRESS), limit=1
    )
    if running:
        return dg.SensorResult(skip_reason="a field index pass is running")
    context.log.info("field index work: %s", ", ".join(work))
    hour = int(time.time() // 3600)
    key = hashlib.sha1("\n".join([str(hour), *work]).encode()).hexdigest()[:20]
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"field-indexes:{key}", tags=AREA_TAGS)])


defs = dg.Definitions(jobs=[field_index_job], sensors=[field_index_sensor])
