"""The view of a work request (status of any background work)."""

from __future__ import annotations

from typing import Any

from core.db.models import WorkRequest


def request_view(request: WorkRequest) -> dict[str, Any]:
    return {
        "request_id": str(request.id),
        "kind": request.kind,
        "status": request.status,
        "progress": request.progress,
        "total": request.total,
        "result": request.result,
        "error": request.error,
        "run_id": request.run_id,
        "attempts": request.attempts,
        "created_at": request.created_at.isoformat() if request.created_at else None,
        "started_at": request.started_at.isoformat() if request.started_at else None,
        "finished_at": request.finished_at.isoformat() if request.finished_at else None,
    }
