"""Serve sensors the way the Dagster daemon would: tick the real sensor, run the real job in process."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs
from orchestration.resources import DatabaseResource, SettingsResource


def resources(database_url: str) -> dict:
    return {"database": DatabaseResource(url=database_url), "settings": SettingsResource()}


def tick(
    instance: dg.DagsterInstance, sensor_name: str, database_url: str, cursor: str | None = None
) -> dg.SensorResult:
    """One evaluation of the named sensor; its dynamic-partition requests are applied to `instance`
    (as the daemon does before launching the runs)."""
    sensor = defs.get_repository_def().get_sensor_def(sensor_name)
    context = dg.build_sensor_context(instance=instance, resources=resources(database_url), cursor=cursor)
    result = sensor(context)
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result


def run(
    instance: dg.DagsterInstance, job_name: str, request: dg.RunRequest, database_url: str
) -> dg.ExecuteInProcessResult:
    """Execute the run a sensor asked for, in this process."""
    job = defs.get_repository_def().get_job(job_name)
    return job.execute_in_process(
        run_config=request.run_config,
        instance=instance,
        tags=request.tags,
        partition_key=request.partition_key,
        resources=resources(database_url),
        raise_on_error=False,
    )


def output_metadata(result: dg.ExecuteInProcessResult) -> dict:
    """The metadata the run's step reported (materialization or output), as plain values."""
    for event in result.all_events:  # an op's output first: it may also log collection events
        data = event.event_specific_data
        if event.event_type_value == "STEP_OUTPUT" and data.metadata:
            return {k: v.value for k, v in data.metadata.items()}
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}
    return {}


def materializations(result: dg.ExecuteInProcessResult, asset: str) -> list[tuple[str, dict]]:
    """(partition, metadata) of every materialization of `asset` the run logged."""
    found = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            m = event.event_specific_data.materialization
            if m.asset_key.to_user_string() == asset:
                found.append((m.partition, {k: v.value for k, v in m.metadata.items()}))
    return found


def failure_metadata(result: dg.ExecuteInProcessResult) -> tuple[str, dict]:
    """The description and metadata of the run's step failure."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            info = event.event_specific_data.user_failure_data
            if info is not None:
                return info.description or "", {k: v.value for k, v in info.metadata.items()}
            return event.event_specific_data.error.message, {}
    return "", {}
