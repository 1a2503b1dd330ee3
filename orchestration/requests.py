"""Request-driven runs: queued WorkRequest rows become Dagster runs, exactly once each.

Each area builds its sensor with `build_request_sensor(kind, job)`. The API launches a new row's run
itself right after committing it (api/requests/launch.py, same run config and tags, and the
sensor's `run_key`); the sensor lists queued rows of its kind that have no run yet (leaving a row
younger than `DIRECT_LAUNCH_GRACE` to the API) and asks for one run per row with `run_key` =
request id, which Dagster never launches twice; the run marks the row running, then succeeded or
failed. A run that dies before its op can say so is caught by `request_failure_sensor`, which fails
the row with the run's error, or, when Dagster's run retries launch the run again, puts the row
back to queued saying so.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import datetime as dt
import uuid

import dagster as dg

from core.db.models import RequestStatus, WorkRequest
from core.requests import (  # noqa: F401 - the run tags, re-exported for the areas
    COLLECTION_TAG,
    KIND_TAG,
    REQUEST_TAG,
    TENANT_TAG,
    fail_request,
    one_op_request_config,
    queued_requests,
    request_tags,
    requeue_request,
)
from core.settings import get_settings
from orchestration.resources import DatabaseResource

# when the API launches a new request's run itself (settings.dagster_url), a sensor leaves a row
# this young to it, so the two never race to start the same request; past it, the sensor is the
# fallback for a launch that failed (the API's launchRun creates its run in well under a second)
DIRECT_LAUNCH_GRACE = dt.timedelta(seconds=10)
# runs that are still on their way: a sensor starts no second one of the same work while one is
IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
WILL_RETRY_TAG = "dagster/will_retry"  # set by Dagster on a failed run its run retries relaunch


class RequestConfig(dg.Config):
    """The request a run serves."""

    request_id: str


def request_run_config(job: dg.JobDefinition, request_id: uuid.UUID | str) -> dict:
    """Run config that hands `request_id` to the job's single op or asset."""
    nodes = job.graph.node_names()
    if len(nodes) != 1:
        raise ValueError(f"request job {job.name} must have exactly one op or asset, has {nodes}")
    return one_op_request_config(nodes[0], request_id)


def has_run(instance: dg.DagsterInstance, request_id: uuid.UUID | str) -> bool:
    """Whether a run (any status) serves the request already: the API launched it, or an earlier tick."""
    return bool(instance.get_run_ids(filters=dg.RunsFilter(tags={REQUEST_TAG: str(request_id)}), limit=1))


def left_to_api(request: WorkRequest, now: dt.datetime | None = None) -> bool:
    """Whether the API is still expected to launch this queued request's run itself."""
    if not get_settings().dagster_url or request.created_at is None:
        return False
    now = now or dt.datetime.now(dt.UTC)
    return now - request.created_at < DIRECT_LAUNCH_GRACE


def awaiting_run(instance: dg.DagsterInstance, rows: list[WorkRequest]) -> list[WorkRequest]:
    """The queued rows a sensor starts a run for: not left to the API, without a run already (the
    API launched it, or it waits for a retry)."""
    return [r for r in rows if not left_to_api(r) and not has_run(instance, r.id)]


def build_request_sensor(
    kind: str, job: dg.JobDefinition, *, name: str | None = None, minimum_interval_seconds: int = 5
) -> dg.SensorDefinition:
    """A sensor that turns queued `kind` requests into runs of `job` (run_key = request id)."""

    @dg.sensor(
        name=name or f"{kind}_request_sensor",
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Launches one run of {job.name} per queued '{kind}' request.",
    )
    def _sensor(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SensorResult:
        with database.session() as session:
            rows = awaiting_run(context.instance, queued_requests(session, kind))
        if not rows:
            return dg.SensorResult(skip_reason=f"no queued '{kind}' requests without a run")
        context.log.info("%d queued %s request(s)", len(rows), kind)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=str(r.id), run_config=request_run_config(job, r.id), tags=request_tags(r)
                )
                for r in rows
            ]
        )

    return _sensor


@dg.run_failure_sensor(
    name="request_failure_sensor",
    monitor_all_code_locations=False,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fails the work request of a run that failed before it could report.",
)
def request_failure_sensor(context: dg.RunFailureSensorContext, database: DatabaseResource) -> None:
    request_id = context.dagster_run.tags.get(REQUEST_TAG)
    if not request_id:
        return
    with database.session() as session:
        request = session.get(WorkRequest, uuid.UUID(request_id))
        if request is None or request.status in (RequestStatus.SUCCEEDED.value, RequestStatus.FAILED.value):
            return
        message = context.failure_event.message or "run failed"
        if context.dagster_run.tags.get(WILL_RETRY_TAG) == "true":
            # Dagster launches the run again (run_retries in dagster.yaml: a run that failed to
            # start or was failed from outside); the retried run takes the row over
            requeue_request(
                session, request.id, f"run {context.dagster_run.run_id} failed ({message}); retrying"
            )
            context.log.info("request %s waits for the retried run", request_id)
            return
        fail_request(session, request.id, message)
        context.log.info("marked request %s failed", request_id)


defs = dg.Definitions(sensors=[request_failure_sensor])
