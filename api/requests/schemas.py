"""The view of a work request (status of any background work)."""

from __future__ import annotations

from typing import Any

import msgspec

from api.timestamps import iso
from core.db.models import WorkRequest


class RequestView(msgspec.Struct):
    """Where a piece of background work stands: status, progress, result or error."""

    request_id: str
    kind: str
    status: str
    progress: int | None
    total: int | None
    result: dict[str, Any] | None
    error: str | None
    run_id: str | None
    attempts: int
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class QueuedRequest(msgspec.Struct):
    """A request just queued: poll `/requests/{request_id}`."""

    request_id: str
    status: str


def request_view(request: WorkRequest) -> RequestView:
    return RequestView(
        request_id=str(request.id),
        kind=request.kind,
        status=request.status,
        progress=request.progress,
        total=request.total,
        result=request.result,
        error=request.error,
        run_id=request.run_id,
        attempts=request.attempts,
        created_at=iso(request.created_at),
        started_at=iso(request.started_at),
        finished_at=iso(request.finished_at),
    )
