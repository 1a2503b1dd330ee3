"""Reading a test Dagster instance the way an operator's UI does: a partition's materializations with
their metadata, and the collection checks run as the UI's "Execute checks" (or the hourly schedule) runs
them, in process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import dagster as dg

from api import asset_events
from assets import collection_checks
from core.settings import Settings, get_settings
from orchestration.definitions import defs
from orchestration.resources import DatabaseResource, SettingsResource

CHECK_NAMES = {c.name for c in collection_checks.COLLECTION_CHECKS}


class ChosenSettings(SettingsResource):
    def get(self) -> Settings:
        return get_settings()


@contextlib.contextmanager
def runless_instance() -> Iterator[dg.DagsterInstance]:
    """A test instance that the API's runless asset events (ingestion, replace, swap) are reported to."""
    with dg.instance_for_test() as instance:
        asset_events.use_instance(instance)
        try:
            yield instance
        finally:
            asset_events.use_instance(None)


def materializations(instance: dg.DagsterInstance, asset: str, partition: str, limit: int = 10) -> list[dg.EventLogRecord]:
    """The materializations of `asset`'s `partition`, newest first."""
    return instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=limit
    ).records


def metadata(record: dg.EventLogRecord) -> dict[str, Any]:
    """A materialization's metadata as plain values, as the UI shows them."""
    return {k: v.value for k, v in record.asset_materialization.metadata.items()}


def resources(database: DatabaseResource) -> dict:
    return {"database": database, "settings": ChosenSettings()}


def run_checks(instance: dg.DagsterInstance, database: DatabaseResource, key: str) -> dict[str, dg.AssetCheckEvaluation]:
    """Every collection check of partition `key`, as the UI's "Execute checks" runs them."""
    job = defs.resolve_job_def("collection_checks_job")
    # the run the schedule launches: the partition in its tags (Dagster 1.13 gives a
    # checks-only job no partitions definition, so `partition_key=` is refused in process)
    result = job.execute_in_process(tags={"dagster/partition": key}, instance=instance,
                                    resources=resources(database), raise_on_error=False)
    assert result.success
    found = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(found) == CHECK_NAMES
    assert {e.partition for e in found.values()} == {key}
    return found


def failing(evaluations: dict[str, dg.AssetCheckEvaluation]) -> set[str]:
    return {name for name, e in evaluations.items() if not e.passed}
