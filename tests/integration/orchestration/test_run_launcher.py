"""The forkserver run launcher (orchestration/launcher.py) on a real Dagster instance: runs forked
from the pre-warmed forkserver succeed and record their materializations, terminate cancels a run,
a killed worker's run is failed (and so retried by run_retries), and a change to the code restarts
the forkserver."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.launcher import WorkerStatus
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.auto_run_reexecution.auto_run_reexecution import (
    consume_new_runs_for_automatic_reexecution,
)

from core.settings import REPO_ROOT
from orchestration import launcher
from orchestration.launcher import FORKSERVER_TAG, PID_TAG, ForkserverRunLauncher

pytestmark = pytest.mark.integration

DEFS_MODULE = "tests.integration.orchestration.launcher_defs"
LOG = logging.getLogger("test_run_launcher")


@pytest.fixture(scope="module")
def workspace() -> Iterator[WorkspaceProcessContext]:
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    # the launcher as dagster.yaml configures it, preloading the test code location
    run_launcher = {**config["run_launcher"], "config": {"preload_modules": [DEFS_MODULE]}}
    overrides = {"run_launcher": run_launcher, "run_retries": config["run_retries"]}
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name=DEFS_MODULE, attribute="defs", working_directory=str(REPO_ROOT)),
        location_name="launcher-tests",
    )
    with (
        dg.instance_for_test(overrides=overrides) as instance,
        WorkspaceProcessContext(instance, InProcessTestWorkspaceLoadTarget(origin)) as context,
    ):
        yield context


def _launch(workspace: WorkspaceProcessContext, job_name: str, run_config: dict | None = None) -> str:
    """Create the run as the UI's launchRun does and launch it through the instance's launcher."""
    instance = workspace.instance
    request_context = workspace.create_request_context()
    location = request_context.get_code_location("launcher-tests")
    remote_job = location.get_repository("__repository__").get_full_job(job_name)
    plan = location.get_execution_plan(
        remote_job, run_config or {}, step_keys_to_execute=None, known_state=None, instance=instance
    )
    run = instance.create_run(
        job_name=job_name,
        run_id=None,
        run_config=run_config or {},
        status=dg.DagsterRunStatus.NOT_STARTED,
        tags={},
        root_run_id=None,
        parent_run_id=None,
        step_keys_to_execute=None,
        resolved_op_selection=None,
        op_selection=None,
        job_snapshot=remote_job.job_snapshot,
        execution_plan_snapshot=plan.execution_plan_snapshot,
        parent_job_snapshot=None,
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        asset_selection=remote_job.asset_selection,
        asset_check_selection=None,
        asset_graph=request_context.asset_graph,
    )
    instance.launch_run(run.run_id, request_context)
    return run.run_id


def _wait(
    instance: dg.DagsterInstance, run_id: str, statuses: set[dg.DagsterRunStatus], timeout: float = 60
) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run.status in statuses:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} is {instance.get_run_by_id(run_id).status}, not {statuses}")


def _wait_file(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_runs_are_forked_from_one_prewarmed_forkserver_and_succeed(
    workspace: WorkspaceProcessContext,
) -> None:
    instance = workspace.instance
    assert isinstance(instance.run_launcher, ForkserverRunLauncher)
    probes = []
    for _ in range(2):
        run_id = _launch(workspace, "probe_job")
        run = _wait(instance, run_id, {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE})
        assert run.status == dg.DagsterRunStatus.SUCCESS
        records = instance.fetch_materializations(dg.AssetKey("worker_probe"), limit=1).records
        assert records and records[0].run_id == run_id
        meta = {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
        assert run.tags[PID_TAG] == str(meta["pid"])
        probes.append((meta, run.tags))
    server = launcher.forkserver_pid()
    for meta, tags in probes:
        # the worker is a child of the forkserver, which had imported the code before the fork: a
        # fresh interpreter (`dagster api execute_run`) would have imported it itself
        assert meta["ppid"] == server == int(tags[FORKSERVER_TAG])
        assert meta["imported_in"] == server != meta["pid"]
        assert meta["pid"] != os.getpid()
    assert probes[0][0]["pid"] != probes[1][0]["pid"]


def test_terminate_cancels_a_running_run(workspace: WorkspaceProcessContext, tmp_path: Path) -> None:
    instance = workspace.instance
    release = tmp_path / "release"
    run_id = _launch(workspace, "hold_job", {"ops": {"hold": {"config": {"release_file": str(release)}}}})
    _wait_file(Path(f"{release}.started"))
    run = _wait(instance, run_id, {dg.DagsterRunStatus.STARTED})
    assert instance.run_launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
    assert instance.run_launcher.terminate(run_id)
    run = _wait(
        instance,
        run_id,
        {dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS},
        timeout=30,
    )
    assert run.status == dg.DagsterRunStatus.CANCELED
    assert not release.exists()
    assert instance.run_launcher.terminate(run_id) is False  # finished: nothing to terminate


def test_a_killed_worker_fails_its_run_which_is_retried(
    workspace: WorkspaceProcessContext, tmp_path: Path
) -> None:
    instance = workspace.instance
    release = tmp_path / "release"
    run_id = _launch(workspace, "hold_job", {"ops": {"hold": {"config": {"release_file": str(release)}}}})
    _wait_file(Path(f"{release}.started"))
    started = _wait(instance, run_id, {dg.DagsterRunStatus.STARTED})
    pid = int(started.tags[PID_TAG])
    os.kill(pid, signal.SIGKILL)
    failed = _wait(
        instance,
        run_id,
        {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.CANCELED},
        timeout=30,
    )
    assert failed.status == dg.DagsterRunStatus.FAILURE
    # run monitoring, looking at the run as it was while STARTED (after a daemon restart, say), sees
    # the worker gone too
    health = instance.run_launcher.check_run_worker_health(started)
    assert health.status == WorkerStatus.FAILED
    # a worker that died is no step failure: run_retries (dagster.yaml) launches the run again (the
    # tag is written just after the failure event)
    deadline = time.monotonic() + 10
    while "dagster/will_retry" not in failed.tags and time.monotonic() < deadline:
        time.sleep(0.05)
        failed = instance.get_run_by_id(run_id)
    assert failed.tags["dagster/will_retry"] == "true"
    records = instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))
    list(consume_new_runs_for_automatic_reexecution(workspace, records, LOG))
    retries = [r for r in instance.get_runs() if r.parent_run_id == run_id]
    assert len(retries) == 1 and retries[0].status == dg.DagsterRunStatus.QUEUED
    # taken off the queue as the run queue's daemon does, by the instance's launcher
    workspace.instance.launch_run(retries[0].run_id, workspace.create_request_context())
    release.write_text("go")  # the retry (launched through the same launcher) finishes at once
    retry = _wait(instance, retries[0].run_id, {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE})
    assert retry.status == dg.DagsterRunStatus.SUCCESS
    assert int(retry.tags[PID_TAG]) != pid


def test_a_code_change_restarts_the_forkserver(workspace: WorkspaceProcessContext) -> None:
    instance = workspace.instance
    _wait(instance, _launch(workspace, "probe_job"), {dg.DagsterRunStatus.SUCCESS})
    before = launcher.forkserver_pid()
    defs_file = Path(REPO_ROOT, *DEFS_MODULE.split(".")).with_suffix(".py")
    stat = defs_file.stat()
    os.utime(defs_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    try:
        run = _wait(instance, _launch(workspace, "probe_job"), {dg.DagsterRunStatus.SUCCESS})
    finally:
        os.utime(defs_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = launcher.forkserver_pid()
    assert after != before and int(run.tags[FORKSERVER_TAG]) == after
