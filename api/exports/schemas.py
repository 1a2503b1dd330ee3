"""Views of exports as the contract shows them."""

from __future__ import annotations

import msgspec

from core.db.models import WorkRequest
from core.exports import export_id, public_status


class ExportStarted(msgspec.Struct):
    """`POST /export`: `{export_id, status}`."""

    export_id: str
    status: str


class ExportStatus(msgspec.Struct, omit_defaults=True):
    """`GET /export/{id}/status`: `{status, progress, total}`, plus `error` when it failed."""

    status: str
    progress: int | None
    total: int | None
    error: str | msgspec.UnsetType = msgspec.UNSET


class ActiveExport(msgspec.Struct, omit_defaults=True):
    """One entry of `GET /export/active`."""

    export_id: str
    status: str
    progress: int | None
    total: int | None
    collection: str | None
    format: str | None
    record_status: str | None
    created_at: str | None
    error: str | msgspec.UnsetType = msgspec.UNSET


def started_view(request: WorkRequest) -> ExportStarted:
    return ExportStarted(export_id=export_id(request.id), status=public_status(request))


def status_view(request: WorkRequest) -> ExportStatus:
    return ExportStatus(
        status=public_status(request),
        progress=request.progress,
        total=request.total,
        error=request.error or msgspec.UNSET,
    )


def active_view(request: WorkRequest) -> ActiveExport:
    params = request.params or {}
    return ActiveExport(
        export_id=export_id(request.id),
        status=public_status(request),
        progress=request.progress,
        total=request.total,
        collection=params.get("collection"),
        format=params.get("format"),
        record_status=params.get("status"),
        created_at=request.created_at.isoformat() if request.created_at else None,
        error=request.error or msgspec.UNSET,
    )
