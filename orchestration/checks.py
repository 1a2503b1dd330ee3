"""When the collection checks run besides with their asset (and right after a run's own
materialization, `collection_events.log_checks`): hourly, one run per collection partition.

`collection_checks_job` runs every collection check (assets/collection_checks.py) of one partition;
`collection_checks_schedule` asks for one run of it per collection partition each hour (run_key =
partition and hour, so a tick is never served twice). Operators launch the job for chosen
partitions from the UI.

Why not a declarative automation condition on the checks ("after each update of the asset, and
on a cron tick"): in Dagster 1.13 partitioned asset checks are a preview, and their automation
conditions do not see their asset's new materializations (`any_deps_updated`, `eager` request
nothing after a partition of the asset is materialized; tried with a runless materialization).
"""

from __future__ import annotations

import dagster as dg

from assets.collection_checks import COLLECTION_CHECKS
from core.collections.events import PARTITIONS_NAME

CHECKS = dg.AssetSelection.checks(*[dg.AssetCheckKey(dg.AssetKey(c.asset), c.name) for c in COLLECTION_CHECKS])
PARTITION_TAG = "dagster/partition"
CHECK_CRON = "17 * * * *"

collection_checks_job = dg.define_asset_job(
    name="collection_checks_job",
    selection=CHECKS,
    tags={"kariz/area": "checks"},
    description="Every collection check of one collection partition (tag dagster/partition).",
)


@dg.schedule(
    name="collection_checks_schedule",
    job=collection_checks_job,
    cron_schedule=CHECK_CRON,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Hourly: every collection check of every collection, one run per collection partition.",
)
def collection_checks_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    # a checks-only job has no partitions definition in Dagster 1.13: the partition goes in the tag
    # the checks read it from
    hour = context.scheduled_execution_time.strftime("%Y%m%d%H") if context.scheduled_execution_time else ""
    return [
        dg.RunRequest(run_key=f"checks:{key}:{hour}", tags={PARTITION_TAG: key})
        for key in sorted(context.instance.get_dynamic_partitions(PARTITIONS_NAME))
    ]


defs = dg.Definitions(jobs=[collection_checks_job], schedules=[collection_checks_schedule])
