"""Views of connectors and pulls as the contract shows them (credentials always redacted)."""

from __future__ import annotations

from typing import Any

import msgspec

from api.timestamps import iso
from core.db.models import Connector, RequestStatus, WorkRequest
from core.pulls.catalog import REDACTED

DEFAULT_WAIT_S = 30.0  # at most this long by default; the SDK waits longer (kariz/sdk PULL_WAIT_S)
MAX_WAIT_S = 3600.0
# a pull request's status as the contract spells it
PUBLIC_STATUS = {
    RequestStatus.QUEUED.value: "queued",
    RequestStatus.RUNNING.value: "running",
    RequestStatus.SUCCEEDED.value: "completed",
    RequestStatus.FAILED.value: "failed",
    RequestStatus.CANCELLED.value: "cancelled",
}


class ConnectorView(msgspec.Struct):
    """The contract's connector object (credentials redacted) plus its query, schedule and last pull."""

    id: str
    name: str
    connector_type: str
    vertical: str
    entity_type: str
    connection_config: str
    query: str
    name_column: str | None
    key_column: str | None
    deleted_column: str | None
    mode: str | None
    batch_size: int | None
    schedule: str | None
    last_pull_at: str | None
    last_pull_watermark: str | None
    last_status: str | None
    last_error: str | None
    created_at: str | None


class PullView(msgspec.Struct, omit_defaults=True):
    """Where a pull stands: the contract's result fields once it finished, progress while it runs,
    and where to poll it; `errors`, `error` and `error_code` only when there are any."""

    request_id: str
    connector_id: str | None
    run_id: str | None
    status: str
    records_pulled: int | None
    records_ingested: int
    duplicates_skipped: int
    records_rejected: int
    records_inserted: int
    records_updated: int
    records_archived: int
    mirror: dict[str, Any] | None
    duration_seconds: float | None
    progress: int | None
    attempts: int
    trigger: str | None
    created_at: str | None
    finished_at: str | None
    status_url: str
    errors: list[dict[str, Any]] | msgspec.UnsetType = msgspec.UNSET
    error: str | msgspec.UnsetType = msgspec.UNSET
    error_code: str | None | msgspec.UnsetType = msgspec.UNSET


def connector_body(connector: Connector) -> ConnectorView:
    """`POST /connectors` (201) and each item of `GET /connectors`."""
    return ConnectorView(
        id=str(connector.id),
        name=connector.name,
        connector_type=connector.connector_type,
        vertical=connector.collection_name,
        entity_type=connector.entity_type,
        connection_config=REDACTED,
        query=connector.query,
        name_column=connector.name_column,
        key_column=connector.key_column,
        deleted_column=connector.deleted_column,
        mode=connector.pull_mode,
        batch_size=connector.batch_size,
        schedule=connector.schedule,
        last_pull_at=iso(connector.last_pull_at),
        last_pull_watermark=iso(connector.last_pull_watermark),
        last_status=connector.last_status,
        last_error=connector.last_error,
        created_at=iso(connector.created_at),
    )


def pull_body(request: WorkRequest, connector_id: str) -> PullView:
    """A pull's result (finished) or progress (queued, running), with where to poll it."""
    result = dict(request.result or {})
    params = request.params or {}
    view = PullView(
        request_id=str(request.id),
        connector_id=params.get("connector_id"),
        run_id=request.run_id,
        status=PUBLIC_STATUS.get(request.status, request.status),
        records_pulled=result.get("records_pulled", request.progress),
        records_ingested=result.get("records_ingested", 0),
        duplicates_skipped=result.get("duplicates_skipped", 0),
        records_rejected=result.get("records_rejected", 0),
        # record identity: records_ingested = inserted + updated; archived by soft or mirror deletes
        records_inserted=result.get("records_inserted", 0),
        records_updated=result.get("records_updated", 0),
        records_archived=result.get("records_archived", 0),
        mirror=result.get("mirror"),
        duration_seconds=result.get("duration_seconds"),
        progress=request.progress,
        attempts=request.attempts,
        trigger=params.get("trigger"),
        created_at=request.created_at.isoformat() if request.created_at else None,
        finished_at=request.finished_at.isoformat() if request.finished_at else None,
        status_url=f"/api/v1/connectors/{connector_id}/pulls/{request.id}",
    )
    if result.get("errors"):
        view.errors = result["errors"]
    if request.error:
        view.error = request.error
        view.error_code = result.get("error_code")
    return view


def wait_seconds(wait: bool, run_async: bool, timeout: float | None) -> float:
    """How long `POST /connectors/{id}/pull` waits for the run: 0 when the caller asked not to."""
    if run_async or not wait:
        return 0.0
    if timeout is None:
        return DEFAULT_WAIT_S
    return min(max(timeout, 0.0), MAX_WAIT_S)
