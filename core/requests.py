"""Work requests: durable rows that ask for background work, each served by one Dagster run.

The API writes a row (`submit_request`); a Dagster sensor turns each queued row into a run whose
`run_key` is the request id, so a row is never lost and never run twice; the run moves the row
through running to succeeded or failed and records progress on the way (`serve_request` does the
three steps for a run whose work has no lifecycle of its own).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from core.db.models import RequestStatus, WorkRequest
from core.errors import KarizError, NotFound

TERMINAL = (RequestStatus.SUCCEEDED.value, RequestStatus.FAILED.value, RequestStatus.CANCELLED.value)

# the tags of a request's Dagster run (orchestration/requests.py, api/requests/launch.py)
TENANT_TAG = "kariz/tenant"
REQUEST_TAG = "kariz/request"
KIND_TAG = "kariz/kind"
COLLECTION_TAG = "kariz/collection"
# `session.info` key: the requests this session created, for whoever acts once they are committed
SUBMITTED_KEY = "kariz.submitted_requests"


@dataclass(frozen=True)
class SubmittedRequest:
    """A request a session created, as it was when submitted (read after commit without the row)."""

    id: uuid.UUID
    kind: str
    tags: dict[str, str]
    params: dict[str, Any]
    partition: str | None = None  # the run's partition key, for a kind whose job is partitioned


def request_tags(request: WorkRequest) -> dict[str, str]:
    """The tags of the run that serves `request`."""
    tags = {TENANT_TAG: str(request.tenant_id), REQUEST_TAG: str(request.id), KIND_TAG: request.kind}
    if request.collection_id:
        tags[COLLECTION_TAG] = str(request.collection_id)
    return tags


def one_op_request_config(op: str, request_id: uuid.UUID | str) -> dict[str, Any]:
    """Run config of a request job whose one op (or asset) `op` takes the request id."""
    return {"ops": {op: {"config": {"request_id": str(request_id)}}}}


def take_submitted(session: Session) -> list[SubmittedRequest]:
    """The requests `session` created since the last call (and forgets them)."""
    return session.info.pop(SUBMITTED_KEY, [])


def _now() -> datetime:
    return datetime.now(UTC)


def submit_request(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    kind: str,
    params: dict[str, Any] | None = None,
    collection_id: uuid.UUID | None = None,
    total: int | None = None,
    partition: str | None = None,
) -> WorkRequest:
    """Queue a request of `kind` for the tenant; the caller commits. `partition` is the partition
    key of the run that will serve it, for whoever launches that run once the row is committed.

    An identical request (same tenant, kind, params and collection) still queued is returned
    instead of a new one, so repeating a housekeeping, export or pull while one waits queues it
    once: the caller gets the same request id. Concurrent submits of the same request serialise on
    a transaction-scoped advisory lock, so they also find one row.
    """
    params = params or {}
    identity = json.dumps([str(tenant_id), kind, params, str(collection_id)], sort_keys=True, default=str)
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(identity, 0))))
    same = (
        sa.select(WorkRequest)
        .where(
            WorkRequest.tenant_id == tenant_id,
            WorkRequest.kind == kind,
            WorkRequest.status == RequestStatus.QUEUED.value,
            WorkRequest.params == sa.cast(sa.literal(json.dumps(params, default=str), sa.Text), JSONB),
            WorkRequest.collection_id.is_(None)
            if collection_id is None
            else WorkRequest.collection_id == collection_id,
        )
        .order_by(WorkRequest.created_at)
        .limit(1)
    )
    existing = session.execute(same).scalar_one_or_none()
    if existing is not None:
        return existing
    request = WorkRequest(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        kind=kind,
        status=RequestStatus.QUEUED.value,
        params=params,
        collection_id=collection_id,
        total=total,
        progress=0,
    )
    session.add(request)
    session.flush()
    session.info.setdefault(SUBMITTED_KEY, []).append(
        SubmittedRequest(request.id, kind, request_tags(request), dict(params), partition)
    )
    return request


def get_request(
    session: Session, tenant_id: uuid.UUID, request_id: uuid.UUID, kind: str | None = None
) -> WorkRequest:
    """The tenant's request; another tenant's id, or the wrong kind, is NotFound."""
    query = sa.select(WorkRequest).where(WorkRequest.id == request_id, WorkRequest.tenant_id == tenant_id)
    if kind is not None:
        query = query.where(WorkRequest.kind == kind)
    request = session.execute(query).scalar_one_or_none()
    if request is None:
        raise NotFound(f"request {request_id} not found")
    return request


def queued_requests(session: Session, kind: str, limit: int = 100) -> list[WorkRequest]:
    """Queued rows of `kind`, oldest first (the sensor's input)."""
    query = (
        sa.select(WorkRequest)
        .where(WorkRequest.kind == kind, WorkRequest.status == RequestStatus.QUEUED.value)
        .order_by(WorkRequest.created_at)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def start_request(session: Session, request_id: uuid.UUID | str, run_id: str) -> WorkRequest:
    """Mark the request running under `run_id` (a retried run takes it over again)."""
    request = session.get(WorkRequest, uuid.UUID(str(request_id)), with_for_update=True)
    if request is None:
        raise NotFound(f"request {request_id} not found")
    request.status = RequestStatus.RUNNING.value
    request.run_id = run_id
    request.attempts += 1
    request.started_at = _now()
    request.error = None
    session.commit()
    return request


def report_progress(
    session: Session, request_id: uuid.UUID | str, progress: int, total: int | None = None
) -> None:
    """Record how far the work has come; committed at once so status endpoints see it."""
    values: dict[str, Any] = {"progress": progress}
    if total is not None:
        values["total"] = total
    session.execute(
        sa.update(WorkRequest).where(WorkRequest.id == uuid.UUID(str(request_id))).values(**values)
    )
    session.commit()


def finish_request(
    session: Session,
    request_id: uuid.UUID | str,
    result: dict[str, Any],
    *,
    expires_at: datetime | None = None,
) -> None:
    """Mark the request succeeded with its result."""
    session.execute(
        sa.update(WorkRequest)
        .where(WorkRequest.id == uuid.UUID(str(request_id)))
        .values(
            status=RequestStatus.SUCCEEDED.value, result=result, finished_at=_now(), expires_at=expires_at
        )
    )
    session.commit()


def fail_request(session: Session, request_id: uuid.UUID | str, error: str) -> None:
    """Mark the request failed, saying why (the reason must hold no secrets)."""
    session.execute(
        sa.update(WorkRequest)
        .where(WorkRequest.id == uuid.UUID(str(request_id)))
        .values(status=RequestStatus.FAILED.value, error=error[:2000], finished_at=_now())
    )
    session.commit()


def serve_request(
    sessions: Callable[[], AbstractContextManager[Session]],
    request_id: uuid.UUID | str,
    run_id: str,
    work: Callable[[WorkRequest], dict[str, Any]],
    *,
    what: str,
) -> dict[str, Any]:
    """Serve one request inside its run: mark it running, do `work` with it, then mark it succeeded
    with the result `work` returns, or failed and re-raise. A domain error fails it with its own
    message (`work` raises one to refuse the request); any other error with "<what> failed: <its
    type>", so no driver message, which may hold secrets, reaches the tenant. `work` opens its own
    sessions; each step here commits in a session of `sessions`."""
    with sessions() as session:
        request = start_request(session, request_id, run_id)
    try:
        result = work(request)
    except KarizError as exc:
        with sessions() as session:
            fail_request(session, request_id, exc.message)
        raise
    except Exception as exc:
        with sessions() as session:
            fail_request(session, request_id, f"{what} failed: {type(exc).__name__}")
        raise
    with sessions() as session:
        finish_request(session, request_id, result)
    return result


def requeue_request(session: Session, request_id: uuid.UUID | str, note: str) -> None:
    """Put a request whose run died (and is being retried) back to queued, saying why in `error`;
    the retried run takes it over (`start_request`, which counts the attempt)."""
    session.execute(
        sa.update(WorkRequest)
        .where(WorkRequest.id == uuid.UUID(str(request_id)), WorkRequest.status.not_in(TERMINAL))
        .values(status=RequestStatus.QUEUED.value, error=note[:2000])
    )
    session.commit()


def queue_depth(session: Session) -> int:
    """How many requests wait for a run."""
    return session.execute(
        sa.select(sa.func.count())
        .select_from(WorkRequest)
        .where(WorkRequest.status == RequestStatus.QUEUED.value)
    ).scalar_one()
