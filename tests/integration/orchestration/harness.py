"""Running the collection checks the way an operator (or the hourly schedule) does, in process."""

from __future__ import annotations

import dagster as dg

from assets import collection_checks
from core.settings import Settings, get_settings
from orchestration.definitions import defs
from orchestration.resources import DatabaseResource, SettingsResource

CHECK_NAMES = {c.name for c in collection_checks.COLLECTION_CHECKS}


class ChosenSettings(SettingsResource):
    def get(self) -> Settings:
        return get_settings()


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
