"""Connector pulls in Dagster: the pull job, and the sensors that feed it.

- `connector_pull_job` materializes one `connector_records` partition (= one connector, key
  `<tenant name>/<connector name>`: core/pulls/partitions.py) per run, with a retry policy (exponential backoff) for sources that are unreachable or went away mid-pull.
- `pull_request_sensor` turns queued `pull` work requests (written by the API) into runs:
  run_key = request id, tags tenant/request/kind/connector (the connector's id), partition = the
  connector's key, and run config that holds the request id only. It also adds the partition, in the
  same tick, if it is new. The API launches a new request's run itself right after its commit
  (api/requests/launch.py, adding the partition first), so the sensor is the fallback.
- `connector_partition_sensor` keeps the dynamic partitions equal to the connectors table (keys of
  another scheme, such as the connector ids used before, are dropped).
- `connector_schedule_sensor` launches a pull for every connector whose cron `schedule` has a tick
  it has not served yet; the last served tick per connector lives in the sensor cursor.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import json
from datetime import UTC, datetime

import dagster as dg
from dagster._utils.schedules import get_latest_completed_cron_tick  # Dagster's own cron arithmetic

from assets.connectors import CONNECTOR_PARTITIONS, connector_records
from core.db.models import Connector
from core.pulls.catalog import PULL_KIND, busy_connectors, scheduled_connectors
from core.pulls.partitions import partition_keys
from core.pulls.runs import pull_run_config, pull_tags
from core.pulls.work import connector_of
from core.requests import fail_request, queued_requests
from orchestration.partitions import matching_partitions, missing_partitions
from orchestration.requests import KIND_TAG, TENANT_TAG, awaiting_run, request_tags
from orchestration.resources import DatabaseResource

PULL_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def build_pull_job(retry_policy: dg.RetryPolicy | None = PULL_RETRY_POLICY, name: str = "connector_pull_job"):
    """The job that runs one pull (tests build one with a short retry delay)."""
    return dg.define_asset_job(
        name=name,
        selection=dg.AssetSelection.assets(connector_records),
        partitions_def=CONNECTOR_PARTITIONS,
        op_retry_policy=retry_policy,
        tags={"kariz/area": "connectors"},
        description="One connector pull: stream the source, ingest in committed units, advance the watermark.",
    )


connector_pull_job = build_pull_job()


@dg.sensor(
    name="pull_request_sensor",
    job=connector_pull_job,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches one connector_records run per queued 'pull' request (run_key = request id).",
)
def pull_request_sensor(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SensorResult:
    runs: list[dg.RunRequest] = []
    partitions: set[str] = set()
    with database.session() as session:
        rows = awaiting_run(context.instance, queued_requests(session, PULL_KIND))
        keys = partition_keys(session) if rows else {}
        for row in rows:
            try:
                connector_id = connector_of(row)
            except (KeyError, ValueError):
                connector_id = None
            key = keys.get(connector_id)
            if key is None:
                fail_request(session, row.id, "the connector does not exist (deleted before its pull ran)")
                continue
            partitions.add(key)
            trigger = row.params.get("trigger", "api")
            runs.append(
                dg.RunRequest(
                    run_key=str(row.id),
                    run_config=pull_run_config(str(row.id), trigger),
                    tags={**request_tags(row), **pull_tags(str(connector_id), trigger)},
                    partition_key=key,
                )
            )
    if not runs:
        return dg.SensorResult(skip_reason="no queued pull requests")
    new = missing_partitions(context.instance, CONNECTOR_PARTITIONS, partitions)
    context.log.info("%d queued pull request(s), %d new partition(s)", len(runs), len(new.added))
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=new.requests)


@dg.sensor(
    name="connector_partition_sensor",
    job=connector_pull_job,  # it launches nothing: it keeps this job's partitions in step with the table
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Keeps the 'connectors' dynamic partitions equal to the stored connectors.",
)
def connector_partition_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult:
    with database.session() as session:
        wanted = set(partition_keys(session).values())
    changes = matching_partitions(context.instance, CONNECTOR_PARTITIONS, wanted)
    if not changes.requests:
        return dg.SensorResult(skip_reason="partitions match the connectors")
    context.log.info("connector partitions: %d added, %d removed", len(changes.added), len(changes.dropped))
    return dg.SensorResult(dynamic_partitions_requests=changes.requests)


def due_ticks(
    connectors: list[Connector], cursor: dict[str, str], now: datetime
) -> tuple[dict[str, datetime], dict[str, str]]:
    """Which connectors have a cron tick not yet served (connector id -> latest tick), and the new cursor.

    A connector seen for the first time starts from its creation, so a tick after registration fires."""
    due: dict[str, datetime] = {}
    served: dict[str, str] = {}
    for connector in connectors:
        key = str(connector.id)
        try:
            latest = get_latest_completed_cron_tick(connector.schedule, now, "UTC")
        except Exception:  # a schedule Dagster cannot read is skipped, not fatal for the others
            continue
        since = cursor.get(key) or (connector.created_at or now).astimezone(UTC).isoformat()
        if latest > datetime.fromisoformat(since):
            due[key] = latest
            served[key] = latest.isoformat()
        else:
            served[key] = since
    return due, served


@dg.sensor(
    name="connector_schedule_sensor",
    job=connector_pull_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches a pull for each connector whose cron schedule (UTC) has a tick not yet served.",
)
def connector_schedule_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    now = datetime.now(UTC)
    with database.session() as session:
        connectors = scheduled_connectors(session)
        busy = busy_connectors(session)
        keys = partition_keys(session) if connectors else {}
    due, served = due_ticks(connectors, cursor, now)
    by_id = {str(c.id): c for c in connectors}
    runs = [
        dg.RunRequest(
            run_key=f"schedule:{connector_id}:{tick.isoformat()}",
            run_config=pull_run_config("", "schedule"),
            tags={
                TENANT_TAG: str(by_id[connector_id].tenant_id),
                KIND_TAG: PULL_KIND,
                **pull_tags(connector_id, "schedule"),
            },
            partition_key=keys[by_id[connector_id].id],
        )
        for connector_id, tick in sorted(due.items())
        if connector_id not in busy
    ]
    new = missing_partitions(context.instance, CONNECTOR_PARTITIONS, {r.partition_key for r in runs})
    if runs:
        context.log.info("%d scheduled pull(s) due", len(runs))
    return dg.SensorResult(
        run_requests=runs,
        cursor=json.dumps(served, sort_keys=True),
        dynamic_partitions_requests=new.requests,
    )


defs = dg.Definitions(
    jobs=[connector_pull_job],
    sensors=[pull_request_sensor, connector_partition_sensor, connector_schedule_sensor],
)
