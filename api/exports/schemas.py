"""Views of exports as the contract shows them."""

from __future__ import annotations

from typing import Any

from core.db.models import WorkRequest
from core.exports import export_id, public_status


def started_view(request: WorkRequest) -> dict[str, Any]:
    """`POST /export`: `{export_id, status}`."""
    return {"export_id": export_id(request.id), "status": public_status(request)}


def status_view(request: WorkRequest) -> dict[str, Any]:
    """`GET /export/{id}/status`: `{status, progress, total}`, plus `error` when it failed."""
    view: dict[str, Any] = {
        "status": public_status(request),
        "progress": request.progress,
        "total": request.total,
    }
    if request.error:
        view["error"] = request.error
    return view


def active_view(request: WorkRequest) -> dict[str, Any]:
    """One entry of `GET /export/active`."""
    params = request.params or {}
    return {
        "export_id": export_id(request.id),
        **status_view(request),
        "collection": params.get("collection"),
        "format": params.get("format"),
        "record_status": params.get("status"),
        "created_at": request.created_at.isoformat() if request.created_at else None,
    }
