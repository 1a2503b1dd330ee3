"""Ingestion in Dagster: the landing zone and reindexing.

- `landing_zone_sensor` -> `landing_file_job`: every 10 s the sensor scans `settings.landing_dir`
  (layout in `core/ingestion/landing.py`), keeps the size and mtime of every file it saw in its
  cursor, and asks for one run per complete file (marked `.ready`, or unchanged since the previous
  tick and settled), run_key = hash of path + size + mtime, so each version of a file is ingested
  once. The run ingests it through `ingest_file`, moves it to `processed/` or `failed/`, and shows
  the ingestion summary as run metadata; a refused file fails the run (red in the UI).
- `reindex_request_sensor` -> `reindex_collection_job`: queued `reindex` work requests (written by
  `POST /admin/reindex/{collection}`) become runs of the `collection_search_text` asset for the
  partition of that collection (run_key = request id). The API launches a new request's run itself
  right after its commit (api/requests/launch.py, the same run config, tags and partition from
  core/admin/reindex.py); the sensor skips rows with a run and leaves young rows to the API, so it
  is the fallback. Operators backfill reindexing across
  collections by materializing partitions of the same asset in the UI.
  The same sensor is the one owner of the `collections` partitions (`<tenant name>/<collection>`,
  shared by every collection stage): every tick it makes them equal to the collections table,
  adding new collections and dropping deleted ones.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import json
from pathlib import Path

import dagster as dg

from assets.embeddings.partitions import COLLECTION_PARTITIONS
from core.admin.reindex import (
    REINDEX_ASSET,
    REINDEX_JOB,
    REINDEX_KIND,
    REINDEX_SENSOR,
    RUN_TAGS,
    reindex_run_config,
)
from core.collections import events
from core.ingestion.landing import (
    SOURCE_TYPE,
    LandingFile,
    LandingOutcome,
    complete_files,
    existing_tenants,
    process_landing_file,
    scan_landing,
    tenant_folders,
)
from core.metrics import INGESTED_RECORDS, INGESTIONS, REJECTED_RECORDS
from core.requests import fail_request, queued_requests
from orchestration.collection_events import log_events
from orchestration.partitions import matching_partitions
from orchestration.requests import TENANT_TAG, awaiting_run, request_tags
from orchestration.resources import DatabaseResource, SettingsResource

AREA_TAGS = {"kariz/area": "ingestion"}
LANDING_OP = "ingest_landing_file"
LANDING_FILE_TAG = "kariz/landing_file"
#: runs asked for per tick at most; the rest wait for the next tick
MAX_LANDING_RUNS_PER_TICK = 50


# ---------------------------------------------------------------------------------------------
# landing zone


class LandingFileConfig(dg.Config):
    """The file a run ingests, as the sensor saw it (path relative to the landing folder)."""

    path: str
    size: int
    mtime_ns: int


def landing_run_config(file: LandingFile) -> dict:
    """Run config of `landing_file_job` for one file."""
    return {
        "ops": {LANDING_OP: {"config": {"path": file.relative, "size": file.size, "mtime_ns": file.mtime_ns}}}
    }


def _log_landing_events(
    context: dg.OpExecutionContext, database: DatabaseResource, path: str, outcome: LandingOutcome
) -> None:
    """An ingested file is a materialization of `landing_files` and of `collection_records` for
    its collection's readable partition (a refused file fails the run instead)."""
    result = outcome.result
    if result is None or result.status == "failed":
        return
    with database.session() as session:
        names, active = events.after_ingestion(session, result.collection_id, result.generation)
    if names is None:
        return
    metadata = events.records_metadata(
        result, source_type=SOURCE_TYPE, source_name=path, active_records=active
    )
    log_events(
        context,
        [
            names.event(
                events.LANDING,
                f"landing file {path} ingested into {names.collection}",
                {"file": path, "moved_to": outcome.moved_to or "", **metadata},
            ),
            names.event(
                events.RECORDS,
                f"landing ingestion {result.ingestion_id} into {names.collection}",
                metadata,
                {"kariz/source_type": SOURCE_TYPE},
            ),
        ],
    )


@dg.op(name=LANDING_OP, description="Ingest one landing-zone file and move it to processed/ or failed/.")
def ingest_landing_file(
    context: dg.OpExecutionContext,
    config: LandingFileConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> None:
    root = Path(settings.get().landing_dir)
    outcome = process_landing_file(
        database.session, root, config.path, size=config.size, mtime_ns=config.mtime_ns
    )
    metadata = outcome.to_metadata()
    _log_landing_events(context, database, config.path, outcome)
    if outcome.result is not None:
        INGESTIONS.labels(SOURCE_TYPE, outcome.result.status).inc()
        INGESTED_RECORDS.labels(SOURCE_TYPE).inc(outcome.result.accepted)
        REJECTED_RECORDS.labels(SOURCE_TYPE).inc(outcome.result.rejected)
    elif outcome.status == "refused":
        INGESTIONS.labels(SOURCE_TYPE, "failed").inc()
    context.log.info("landing file %s: %s", config.path, {k: v for k, v in metadata.items() if k != "errors"})
    if outcome.status == "refused":
        raise dg.Failure(
            description=f"{config.path} refused: {outcome.reason}",
            metadata={k: dg.MetadataValue.json(v) if isinstance(v, list) else v for k, v in metadata.items()},
            allow_retries=False,
        )
    context.add_output_metadata(
        {k: dg.MetadataValue.json(v) if isinstance(v, list) else v for k, v in metadata.items()}
    )


@dg.job(description="Ingest one landing-zone file (launched by landing_zone_sensor).", tags=AREA_TAGS)
def landing_file_job() -> None:
    ingest_landing_file()


@dg.sensor(
    name="landing_zone_sensor",
    job=landing_file_job,
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One run per complete file dropped into `<landing_dir>/<tenant_id>/<collection>/`.",
)
def landing_zone_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource, settings: SettingsResource
) -> dg.SensorResult:
    root = Path(settings.get().landing_dir)
    root.mkdir(parents=True, exist_ok=True)
    folders = tenant_folders(root)
    with database.session() as session:
        tenants = existing_tenants(session, folders)
    files = scan_landing(root, tenants)
    try:
        previous = json.loads(context.cursor) if context.cursor else {}
    except ValueError:
        previous = {}
    ready, seen = complete_files(files, previous)
    runs = [
        dg.RunRequest(
            run_key=f.run_key,
            run_config=landing_run_config(f),
            tags={TENANT_TAG: str(f.tenant_id), LANDING_FILE_TAG: f.relative[:200], **AREA_TAGS},
        )
        for f in ready[:MAX_LANDING_RUNS_PER_TICK]
    ]
    cursor = json.dumps(seen, separators=(",", ":"), sort_keys=True)
    if not runs:
        waiting = len(files) - len(ready)
        ignored = len(folders) - len(tenants)
        reason = f"no complete files ({waiting} still settling; {ignored} unknown tenant folder(s) ignored)"
        return dg.SensorResult(skip_reason=reason, cursor=cursor)
    context.log.info("landing zone: %d file(s) ready", len(runs))
    return dg.SensorResult(run_requests=runs, cursor=cursor)


# ---------------------------------------------------------------------------------------------
# reindexing

reindex_collection_job = dg.define_asset_job(
    name=REINDEX_JOB,
    selection=[REINDEX_ASSET],
    partitions_def=COLLECTION_PARTITIONS,
    tags=AREA_TAGS,
    description="Rebuild search_text of one collection (partition = `<tenant name>/<collection>`) and queue its "
    "records for re-embedding; launched by reindex_request_sensor or a backfill.",
)


def _partition_changes(context: dg.SensorEvaluationContext, database: DatabaseResource) -> list:
    """Requests that make the collection partitions equal to the collections table."""
    with database.session() as session:
        current = events.all_partition_keys(session)
    changes = matching_partitions(context.instance, COLLECTION_PARTITIONS, current)
    if changes.requests:
        context.log.info(
            "collection partitions: %d added, %d dropped", len(changes.added), len(changes.dropped)
        )
    return changes.requests


@dg.sensor(
    name=REINDEX_SENSOR,
    job=reindex_collection_job,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Keeps the collection partitions equal to the collections table, and launches one "
    "reindex_collection_job run (partition = the collection) per queued 'reindex' request.",
)
def reindex_request_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult:
    with database.session() as session:
        rows = awaiting_run(context.instance, queued_requests(session, REINDEX_KIND))
        orphans = [r.id for r in rows if r.collection_id is None]
        for request_id in orphans:  # the collection was deleted after the request was queued
            fail_request(session, request_id, "the collection no longer exists")
        rows = [r for r in rows if r.collection_id is not None]
        keys = {}
        for r in rows:
            names = events.names_of(session, r.collection_id)
            if names is None:
                fail_request(session, r.id, "the collection no longer exists")
            else:
                keys[r.id] = names.partition
        rows = [r for r in rows if r.id in keys]
    # after reading the requests: a request's collection is in the table, so it gets its partition
    changes = _partition_changes(context, database)
    if not rows:
        return dg.SensorResult(
            skip_reason="no queued 'reindex' requests", dynamic_partitions_requests=changes
        )
    runs = [
        dg.RunRequest(
            run_key=str(r.id),
            partition_key=keys[r.id],
            run_config=reindex_run_config(r.id),
            tags={**request_tags(r), **RUN_TAGS},
        )
        for r in rows
    ]
    context.log.info("%d queued reindex request(s)", len(runs))
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=changes)


defs = dg.Definitions(
    jobs=[landing_file_job, reindex_collection_job],
    sensors=[landing_zone_sensor, reindex_request_sensor],
)
