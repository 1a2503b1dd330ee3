from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs


def test_definitions_load_and_every_job_resolves() -> None:
    repository = defs.get_repository_def()
    jobs = repository.get_all_jobs()
    assert "housekeeping_job" in {j.name for j in jobs}
    for job in jobs:
        assert job.graph.node_names(), job.name
    assert {j.name for j in jobs} >= {"promote_generation_job", "archive_generation_records_job", "generation_cleanup_job"}
    sensors = {s.name for s in repository.sensor_defs}
    assert {"housekeeping_request_sensor", "request_failure_sensor"} <= sensors
    assert {"auto_promote_sensor", "archive_records_sensor"} <= sensors
    assert "generation_cleanup_schedule" in {s.name for s in repository.schedule_defs}


def test_every_sensor_and_schedule_names_a_job_or_is_a_monitor() -> None:
    repository = defs.get_repository_def()
    for sensor in repository.sensor_defs:
        if isinstance(sensor, dg.RunStatusSensorDefinition):
            continue
        assert sensor.job_name or sensor.targets, sensor.name
    for schedule in repository.schedule_defs:
        assert schedule.job_name, schedule.name
