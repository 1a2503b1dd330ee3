"""Views of connectors and pulls as the contract shows them (credentials always redacted)."""

from __future__ import annotations

from typing import Any

import msgspec

from api.timestamps import iso
from core.db.models import Connector, WorkRequest
from core.pulls.catalog import REDACTED
from core.pulls.work import pull_view

DEFAULT_WAIT_S = 30.0  # at most this long by default; the SDK waits longer (kariz/sdk PULL_WAIT_S)
MAX_WAIT_S = 3600.0


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
    return PullView(
        **pull_view(request), status_url=f"/api/v1/connectors/{connector_id}/pulls/{request.id}"
    )


def wait_seconds(wait: bool, run_async: bool, timeout: float | None) -> float:
    """How long `POST /connectors/{id}/pull` waits for the run: 0 when the caller asked not to."""
    if run_async or not wait:
        return 0.0
    if timeout is None:
        return DEFAULT_WAIT_S
    return min(max(timeout, 0.0), MAX_WAIT_S)
