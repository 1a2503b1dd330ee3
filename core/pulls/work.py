"""Pulls as work requests: the API (or a schedule) queues one, a Dagster run serves it.

`submit_pull` writes a `pull` request row for a connector; the Dagster request sensor launches one
run per row (run_key = request id) that calls `serve_pull_request`, which moves the row through
running (with progress) to succeeded (the pull result) or failed (a credential-free error and the
counts reached). `wait_for_pull` lets the API answer synchronously when a run finishes in time.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from core.db.models import Connector, RequestStatus, WorkRequest
from core.errors import KarizError, NotFound
from core.pulls.catalog import PULL_KIND, get_connector
from core.pulls.errors import PullFailed, pull_failure
from core.pulls.partitions import partition_of
from core.pulls.run import PullResult, run_pull
from core.requests import (
    TERMINAL,
    fail_request,
    finish_request,
    report_progress,
    start_request,
    submit_request,
)
from core.security.encryption import CredentialBox

log = logging.getLogger(__name__)

def pull_params(connector_id: uuid.UUID, trigger: str) -> dict[str, Any]:
    return {"connector_id": str(connector_id), "trigger": trigger}


def submit_pull(
    session: Session, tenant_id: uuid.UUID, connector_id: uuid.UUID, *, trigger: str = "api"
) -> WorkRequest:
    """Queue a pull of the tenant's connector (NotFound for another tenant's); the caller commits."""
    connector = get_connector(session, tenant_id, connector_id)
    return submit_request(
        session,
        tenant_id=tenant_id,
        kind=PULL_KIND,
        params=pull_params(connector.id, trigger),
        partition=partition_of(session, connector),
    )


def open_pull_request(session: Session, connector: Connector, *, trigger: str, run_id: str) -> WorkRequest:
    """A pull request for a run that Dagster launched by itself (a schedule tick, the UI), committed.

    It is created already running under `run_id`, so the request sensor never launches it again."""
    request = WorkRequest(
        id=uuid.uuid4(),
        tenant_id=connector.tenant_id,
        kind=PULL_KIND,
        status=RequestStatus.RUNNING.value,
        params=pull_params(connector.id, trigger),
        run_id=run_id,
        progress=0,
    )
    session.add(request)
    session.commit()
    return request


def connector_of(request: WorkRequest) -> uuid.UUID:
    """The connector a pull request is for."""
    return uuid.UUID(str((request.params or {})["connector_id"]))


def get_pull(
    session: Session, tenant_id: uuid.UUID, connector_id: uuid.UUID, request_id: uuid.UUID
) -> WorkRequest:
    """The tenant's pull request of this connector; anything else is NotFound."""
    request = session.execute(
        sa.select(WorkRequest).where(
            WorkRequest.id == request_id,
            WorkRequest.tenant_id == tenant_id,
            WorkRequest.kind == PULL_KIND,
            WorkRequest.params["connector_id"].astext == str(connector_id),
        )
    ).scalar_one_or_none()
    if request is None:
        raise NotFound(f"pull {request_id} of connector {connector_id} not found")
    return request


def failure_of(request: WorkRequest) -> PullFailed:
    """The error to answer for a failed (or cancelled) pull request, with its code and counts."""
    result = request.result or {}
    code = result.get("error_code") or "PULL_FAILED"
    extra = {
        "request_id": str(request.id),
        "connector_id": (request.params or {}).get("connector_id"),
        "run_id": request.run_id,
        "records_pulled": result.get("records_pulled", request.progress),
        "records_ingested": result.get("records_ingested", 0),
        "duplicates_skipped": result.get("duplicates_skipped", 0),
    }
    return pull_failure(
        request.error or "the pull failed", code=code, retryable=bool(result.get("retryable")), extra=extra
    )


async def wait_for_pull(
    factory: async_sessionmaker,
    tenant_id: uuid.UUID,
    request_id: uuid.UUID,
    *,
    timeout: float,
    interval: float = 0.25,
) -> WorkRequest:
    """The request once it is finished, or as it stands when `timeout` seconds have passed.

    Async, on short sessions of its own from the app's `factory`: the one waiting function in core
    (`core/db/README.md`), so a handler waiting for a run holds neither a worker thread nor a
    connection between polls. It only reads."""
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        async with factory() as session:
            request = await session.get(WorkRequest, request_id)
        if request is None or request.tenant_id != tenant_id:
            raise NotFound(f"request {request_id} not found")
        if request.status in TERMINAL or time.monotonic() >= deadline:
            return request
        await asyncio.sleep(min(interval, max(deadline - time.monotonic(), 0.0)))
        interval = min(interval * 1.5, 2.0)


def _record_failure(
    factory: sessionmaker[Session], request_id: uuid.UUID, failure: PullFailed, *, final: bool, attempt: int
) -> None:
    counts = {
        k: failure.extra.get(k, 0) for k in ("records_pulled", "records_ingested", "duplicates_skipped")
    }
    result = {"status": "failed", **counts, "error_code": failure.code, "retryable": failure.retryable}
    with factory() as session:
        if final:
            fail_request(session, request_id, failure.message)
            values: dict[str, Any] = {"result": result}
        else:  # stays running: Dagster retries the step after a backoff
            values = {
                "error": f"attempt {attempt} failed, retrying: {failure.message}"[:2000],
                "result": result,
            }
        session.execute(sa.update(WorkRequest).where(WorkRequest.id == request_id).values(**values))
        session.commit()


def serve_pull_request(
    engine: sa.Engine,
    request_id: uuid.UUID | str,
    run_id: str,
    *,
    final_attempt: bool = True,
    box: CredentialBox | None = None,
) -> PullResult:
    """Serve one pull request inside a Dagster run: mark it running, pull, and record the outcome.

    Raises `PullFailed` when the pull fails; the request is failed with the error unless the failure
    is retryable and this is not the `final_attempt` (it then stays running, its error naming the
    attempt, for the retry to take over)."""
    factory = sessionmaker(engine, expire_on_commit=False)
    request_id = uuid.UUID(str(request_id))
    with factory() as session:
        request = start_request(session, request_id, run_id)
        tenant_id, attempt = request.tenant_id, request.attempts
        try:
            connector_id = connector_of(request)
        except (KeyError, ValueError):
            connector_id = None

    def progress(partial: PullResult) -> None:
        with factory() as session:
            report_progress(session, request_id, partial.records_pulled)

    try:
        if connector_id is None:
            raise pull_failure("the request names no connector", code="PULL_FAILED", retryable=False)
        result = run_pull(
            engine, connector_id, tenant_id=tenant_id, request_id=request_id, progress=progress, box=box
        )
    except NotFound:
        failure = pull_failure("the connector was deleted", code="NOT_FOUND", retryable=False)
        _record_failure(factory, request_id, failure, final=True, attempt=attempt)
        raise failure from None
    except PullFailed as failure:
        _record_failure(
            factory, request_id, failure, final=final_attempt or not failure.retryable, attempt=attempt
        )
        raise
    except KarizError as exc:  # e.g. unreadable credentials: no retry helps
        failure = pull_failure(exc.message, code=exc.code, retryable=False)
        _record_failure(factory, request_id, failure, final=True, attempt=attempt)
        raise failure from None
    with factory() as session:
        finish_request(session, request_id, result.to_dict())
        session.execute(
            sa.update(WorkRequest)
            .where(WorkRequest.id == request_id)
            .values(progress=result.records_pulled, total=result.records_pulled)
        )
        session.commit()
    return result
