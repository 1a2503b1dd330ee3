"""Serve export requests the way the Dagster daemon would: tick the real sensor, run the real job."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from orchestration.definitions import defs
from orchestration.resources import DatabaseResource


def serve_export_requests(
    instance: dg.DagsterInstance, database_url: str, only: set[str] | None = None
) -> list[dg.ExecuteInProcessResult]:
    """One sensor tick: execute a run for each queued export request (or only those in `only`)."""
    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def("export_request_sensor")
    job = repository.get_job("export_job")
    database = DatabaseResource(url=database_url)
    tick = sensor(dg.build_sensor_context(instance=instance, resources={"database": database}))
    results = []
    for run_request in tick.run_requests or []:
        if only is not None and run_request.run_key not in only:
            continue
        results.append(
            job.execute_in_process(
                run_config=run_request.run_config,
                instance=instance,
                tags=run_request.tags,
                resources={"database": database},
                raise_on_error=False,
            )
        )
    return results


@contextmanager
def export_daemon(database_url: str, interval: float = 0.2) -> Iterator[list[dg.ExecuteInProcessResult]]:
    """A background thread ticking the export sensor until the block ends; yields the runs so far."""
    runs: list[dg.ExecuteInProcessResult] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop() -> None:
        with dg.instance_for_test() as instance:
            while not stop.is_set():
                try:
                    runs.extend(serve_export_requests(instance, database_url))
                except BaseException as exc:  # surfaced to the test below
                    errors.append(exc)
                    return
                stop.wait(interval)

    thread = threading.Thread(target=loop, name="export-daemon", daemon=True)
    thread.start()
    try:
        yield runs
    finally:
        stop.set()
        thread.join(timeout=30)
    if errors:
        raise errors[0]
