"""A run that died outside its assets and that Dagster retries leaves its request waiting, not failed.

Real Dagster (a test instance, the real `request_failure_sensor`) and real PostgreSQL: a failed run
tagged for retry puts its request back to queued with the reason; the retried run takes it over
and the row counts the attempt; a run that will not be retried fails its request.
"""

from __future__ import annotations

import uuid

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import RequestStatus, WorkRequest
from core.requests import start_request
from core.tenants.service import create_tenant
from orchestration.requests import REQUEST_TAG, WILL_RETRY_TAG, request_failure_sensor
from orchestration.resources import DatabaseResource

pytestmark = pytest.mark.integration


@dg.op
def nothing() -> None:
    """Stands in for a request job's single step (the run fails before it runs)."""


@dg.job
def died_job() -> None:
    nothing()


def _request(engine: sa.Engine) -> uuid.UUID:
    with Session(engine) as session:
        tenant = create_tenant(session, f"retry-{uuid.uuid4().hex[:8]}")
        row = WorkRequest(id=uuid.uuid4(), tenant_id=tenant.id, kind="housekeeping",
                          status=RequestStatus.QUEUED.value, params={}, progress=0)
        session.add(row)
        session.commit()
        start_request(session, row.id, run_id="first-run")
        return row.id


def _fail_run(instance: dg.DagsterInstance, request_id: uuid.UUID, *, will_retry: bool, database_url: str) -> None:
    tags = {REQUEST_TAG: str(request_id), WILL_RETRY_TAG: "true" if will_retry else "false"}
    run = instance.create_run_for_job(job_def=died_job, tags=tags)
    instance.report_run_failed(run, "the code server did not answer in time")
    record = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records[0]
    context = dg.build_run_status_sensor_context(
        sensor_name="request_failure_sensor",
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(run.run_id),
        dagster_event=record.event_log_entry.dagster_event,
        resources={"database": DatabaseResource(url=database_url)},
    ).for_run_failure()
    request_failure_sensor(context)


def _row(engine: sa.Engine, request_id: uuid.UUID) -> WorkRequest:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(WorkRequest, request_id)


def test_a_retried_run_leaves_the_request_queued_and_the_retry_counts_the_attempt(
    sync_engine: sa.Engine, database_url: str
) -> None:
    request_id = _request(sync_engine)
    with dg.instance_for_test() as instance:
        _fail_run(instance, request_id, will_retry=True, database_url=database_url)
    row = _row(sync_engine, request_id)
    assert row.status == RequestStatus.QUEUED.value and "retrying" in (row.error or "")
    assert row.attempts == 1
    with Session(sync_engine) as session:
        start_request(session, request_id, run_id="retried-run")  # what the retried run does first
    row = _row(sync_engine, request_id)
    assert (row.status, row.attempts, row.run_id, row.error) == (RequestStatus.RUNNING.value, 2, "retried-run", None)


def test_a_run_that_is_not_retried_fails_its_request(sync_engine: sa.Engine, database_url: str) -> None:
    request_id = _request(sync_engine)
    with dg.instance_for_test() as instance:
        _fail_run(instance, request_id, will_retry=False, database_url=database_url)
    row = _row(sync_engine, request_id)
    assert row.status == RequestStatus.FAILED.value and "code server" in (row.error or "")
