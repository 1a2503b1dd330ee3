"""`connector_records`: the records a connector pulled into its vertical, one partition per connector.

A materialization is one pull. Its run config carries only the work request id (the partition key
is the connector's readable `<tenant name>/<connector name>`, core/pulls/partitions.py; its id is
the run's `kariz/connector` tag and the materialization's `connector_id`); credentials are decrypted inside the run and never reach run config, tags,
logs or metadata. A run launched without a request (a schedule tick, or an operator materializing
the partition in the UI, a backfill) opens its own request for the connector its partition key
resolves to (`resolve_partition`, the one way from a key to its connector), so every pull has a
status row.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import dagster as dg

from assets.connectors.partitions import CONNECTOR_PARTITIONS
from core.pulls.errors import PullFailed
from core.pulls.partitions import resolve_partition
from core.pulls.runs import CONNECTOR_TAG
from core.pulls.work import open_pull_request, serve_pull_request
from orchestration.resources import DatabaseResource


class PullConfig(dg.Config):
    """Which work request this run serves; empty for a run that opens its own (schedules, the UI)."""

    request_id: str = ""
    trigger: str = "dagster"


def _request_for(
    context: dg.AssetExecutionContext, config: PullConfig, database: DatabaseResource
) -> tuple[str, str]:
    """The request the run serves and its connector's id (a request's run is tagged with it)."""
    if config.request_id:
        return config.request_id, context.run.tags.get(CONNECTOR_TAG, "")
    with database.session() as session:
        connector = resolve_partition(session, context.partition_key)
        if connector is None:
            raise dg.Failure(f"connector {context.partition_key} no longer exists", allow_retries=False)
        request = open_pull_request(session, connector, trigger=config.trigger, run_id=context.run_id)
        return str(request.id), str(connector.id)


def _final_attempt(context: dg.AssetExecutionContext) -> bool:
    policy = context.job_def.get_retry_policy_for_handle(context.op_handle)
    return policy is None or context.retry_number >= policy.max_retries


@dg.asset(
    name="connector_records",
    partitions_def=CONNECTOR_PARTITIONS,
    group_name="connectors",
    kinds={"postgres"},
    description="Rows pulled from a tenant's database into records of the connector's vertical (one pull "
    "per materialization; partition = `<tenant name>/<connector name>`, the id in the metadata).",
)
def connector_records(
    context: dg.AssetExecutionContext, config: PullConfig, database: DatabaseResource
) -> dg.MaterializeResult:
    request_id, connector_id = _request_for(context, config, database)
    final = _final_attempt(context)
    try:
        result = serve_pull_request(database.engine, request_id, context.run_id, final_attempt=final)
    except PullFailed as failure:
        context.log.warning(
            "pull %s of connector %s failed (%s, attempt %d): %s",
            request_id,
            context.partition_key,
            failure.code,
            context.retry_number + 1,
            failure.message,
        )
        if failure.retryable and not final:
            raise  # the job's retry policy tries again after a backoff
        raise dg.Failure(
            description=f"{failure.code}: {failure.message}",
            metadata={"request_id": request_id, "error_code": failure.code},
            allow_retries=False,
        ) from None
    context.log.info(
        "pull %s of connector %s: %d pulled, %d ingested, %d duplicates, %d rejected in %.1fs",
        request_id,
        context.partition_key,
        result.records_pulled,
        result.records_ingested,
        result.duplicates_skipped,
        result.records_rejected,
        result.duration_seconds,
    )
    return dg.MaterializeResult(
        metadata={
            "request_id": request_id,
            "connector_id": connector_id,
            "records_pulled": dg.MetadataValue.int(result.records_pulled),
            "records_ingested": dg.MetadataValue.int(result.records_ingested),
            "duplicates_skipped": dg.MetadataValue.int(result.duplicates_skipped),
            "records_rejected": dg.MetadataValue.int(result.records_rejected),
            "duration_seconds": dg.MetadataValue.float(round(result.duration_seconds, 3)),
        }
    )
