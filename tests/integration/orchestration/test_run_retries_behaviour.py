"""Runs that failed to start are launched again; runs that failed inside their step are not.

Dagster's own daemon iterations on an instance configured with `dagster.yaml`'s run queue, run
retries and run monitoring, and Kariz's real code location loaded in process: the run monitoring
iteration fails a run stuck starting past `start_timeout_seconds` (time moved past it, not waited
for), and the auto re-execution iteration then queues its retry, with the request's tags; a run of
the real housekeeping job whose step fails (an unknown request, real PostgreSQL) is left failed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import dagster as dg
import pytest
import yaml
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.auto_run_reexecution.auto_run_reexecution import (
    consume_new_runs_for_automatic_reexecution,
)
from dagster._daemon.monitoring.run_monitoring import execute_run_monitoring_iteration

from core.settings import REPO_ROOT
from orchestration.requests import REQUEST_TAG, TENANT_TAG, WILL_RETRY_TAG, request_run_config
from orchestration.resources import DatabaseResource

pytestmark = pytest.mark.integration

LOG = logging.getLogger("test_run_retries")


@pytest.fixture(scope="module")
def workspace() -> Iterator[WorkspaceProcessContext]:
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    overrides = {k: config[k] for k in ("run_coordinator", "run_retries", "run_monitoring")}
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="orchestration.definitions", attribute="defs",
                             working_directory=str(REPO_ROOT)),
        location_name="kariz",
    )
    with (dg.instance_for_test(overrides=overrides) as instance,
          WorkspaceProcessContext(instance, InProcessTestWorkspaceLoadTarget(origin)) as context):
        yield context


def _retry_iteration(context: WorkspaceProcessContext) -> None:
    """One pass of the auto re-execution daemon over every failed run."""
    records = context.instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    list(consume_new_runs_for_automatic_reexecution(context, records, LOG))


def _retries_of(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterRun]:
    return [r for r in instance.get_runs() if r.parent_run_id == run_id]


def test_a_run_stuck_starting_is_failed_by_run_monitoring_and_queued_again(workspace: WorkspaceProcessContext) -> None:
    instance = workspace.instance
    request_context = workspace.create_request_context()
    location = request_context.get_code_location("kariz")
    remote_job = location.get_repository("__repository__").get_full_job("housekeeping_job")
    request_id = str(uuid.uuid4())
    run_config = request_run_config_for(request_id)
    # the run as a sensor's run request creates it: job and execution plan snapshots, remote origin
    plan = location.get_execution_plan(remote_job, run_config, step_keys_to_execute=None, known_state=None,
                                       instance=instance)
    tags = {REQUEST_TAG: request_id, TENANT_TAG: str(uuid.uuid4())}
    run = instance.create_run(
        job_name="housekeeping_job", run_id=None, run_config=run_config, status=dg.DagsterRunStatus.NOT_STARTED,
        tags=tags, root_run_id=None, parent_run_id=None, step_keys_to_execute=None, resolved_op_selection=None,
        op_selection=None, job_snapshot=remote_job.job_snapshot, execution_plan_snapshot=plan.execution_plan_snapshot,
        parent_job_snapshot=None, remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(), asset_selection=None, asset_check_selection=None,
        asset_graph=request_context.asset_graph,
    )
    # the code server never answered: nothing happens to the run until the start timeout has passed
    list(execute_run_monitoring_iteration(workspace, LOG))
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.NOT_STARTED
    with freeze_time(time.time() + instance.run_monitoring_start_timeout_seconds + 1):
        list(execute_run_monitoring_iteration(workspace, LOG))
    failed = instance.get_run_by_id(run.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    assert failed.tags[WILL_RETRY_TAG] == "true"

    _retry_iteration(workspace)
    retries = _retries_of(instance, run.run_id)
    assert len(retries) == 1
    retry = retries[0]
    # queued behind the same per-tenant limit, serving the same request
    assert retry.status == dg.DagsterRunStatus.QUEUED
    assert retry.tags[REQUEST_TAG] == request_id and retry.tags[TENANT_TAG] == tags[TENANT_TAG]
    assert retry.run_config == failed.run_config
    # a second pass of the daemon launches no second retry
    _retry_iteration(workspace)
    assert len(_retries_of(instance, run.run_id)) == 1


def request_run_config_for(request_id: str) -> dict:
    from orchestration.housekeeping import housekeeping_job

    return request_run_config(housekeeping_job, request_id)


def test_a_run_whose_step_fails_is_left_failed(workspace: WorkspaceProcessContext, database_url: str) -> None:
    from orchestration.housekeeping import housekeeping_job

    instance = workspace.instance
    request_id = str(uuid.uuid4())  # no such request: the step fails on it
    result = housekeeping_job.execute_in_process(
        run_config=request_run_config(housekeeping_job, request_id), instance=instance,
        resources={"database": DatabaseResource(url=database_url)}, tags={REQUEST_TAG: request_id},
        raise_on_error=False,
    )
    assert not result.success
    failed = instance.get_run_by_id(result.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    assert failed.tags[WILL_RETRY_TAG] == "false"
    _retry_iteration(workspace)
    assert _retries_of(instance, result.run_id) == []
