"""Views of connectors and pulls as the contract shows them (credentials always redacted)."""

from __future__ import annotations

from typing import Any

from core.db.models import Connector, WorkRequest
from core.pulls.catalog import connector_view
from core.pulls.work import pull_view

DEFAULT_WAIT_S = 60.0
MAX_WAIT_S = 3600.0


def connector_body(connector: Connector) -> dict[str, Any]:
    """`POST /connectors` (201) and each item of `GET /connectors`."""
    return connector_view(connector)


def pull_body(request: WorkRequest, connector_id: str) -> dict[str, Any]:
    """A pull's result (finished) or progress (queued, running), with where to poll it."""
    body = pull_view(request)
    body["status_url"] = f"/api/v1/connectors/{connector_id}/pulls/{request.id}"
    return body


def wait_seconds(wait: bool, run_async: bool, timeout: float | None) -> float:
    """How long `POST /connectors/{id}/pull` waits for the run: 0 when the caller asked not to."""
    if run_async or not wait:
        return 0.0
    if timeout is None:
        return DEFAULT_WAIT_S
    return min(max(timeout, 0.0), MAX_WAIT_S)
