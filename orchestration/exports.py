"""Exports in Dagster: one run per export request, and a schedule that expires old export files."""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import dagster as dg

from core.exports import execute_export_request, expire_exports
from orchestration.collection_events import collection_events
from orchestration.requests import RequestConfig, build_request_sensor
from orchestration.resources import DatabaseResource, SettingsResource


@dg.op(description="Stream one collection's records to a CSV or JSON export file, reporting progress.")
def export_collection(
    context: dg.OpExecutionContext,
    config: RequestConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> None:
    current = settings.get()
    with collection_events(context):  # the finished export: a collection_exports materialization
        result = execute_export_request(
            database.session,
            database.engine,
            config.request_id,
            context.run_id,
            export_dir=current.export_dir,
            retention_hours=current.export_retention_hours,
        )
    context.log.info(
        "export %s: %d rows of %s (%s, %s) in %d bytes",
        config.request_id,
        result.rows,
        result.collection,
        result.status,
        result.format,
        result.bytes,
    )
    context.add_output_metadata(
        {
            "collection": result.collection,
            "format": result.format,
            "record_status": result.status,
            "rows": result.rows,
            "bytes": result.bytes,
            "columns": result.columns,
        }
    )


@dg.job(description="One export, one run per request.", tags={"kariz/area": "exports"})
def export_job() -> None:
    export_collection()


export_sensor = build_request_sensor("export", export_job)


@dg.op(description="Delete export files past retention and mark their exports expired.")
def expire_export_files(
    context: dg.OpExecutionContext, database: DatabaseResource, settings: SettingsResource
) -> None:
    current = settings.get()
    with database.session() as session:
        report = expire_exports(
            session, export_dir=current.export_dir, retention_hours=current.export_retention_hours
        )
    context.log.info("expired %d exports, deleted %d files", report.requests_expired, report.files_deleted)
    context.add_output_metadata(
        {
            "requests_expired": report.requests_expired,
            "files_deleted": report.files_deleted,
            "bytes_freed": report.bytes_freed,
        }
    )


@dg.job(description="Remove export files past retention.", tags={"kariz/area": "exports"})
def export_expiry_job() -> None:
    expire_export_files()


export_expiry_schedule = dg.ScheduleDefinition(
    name="export_expiry_schedule",
    job=export_expiry_job,
    cron_schedule="*/15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: delete expired export files.",
)

defs = dg.Definitions(
    jobs=[export_job, export_expiry_job], sensors=[export_sensor], schedules=[export_expiry_schedule]
)
