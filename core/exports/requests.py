"""Exports as work requests: what the API submits and reads, and what the Dagster run executes.

An export is a WorkRequest of kind "export" whose params name the collection, format and record
status. Its public id is `exp_<hex of the request id>`. Succeeded, its `result` holds the file's
path (relative to the export folder), rows, bytes and format, and `expires_at` says when the file
goes; the expiry sweep then marks it `expired`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

import core.settings
from core.collections import events
from core.db.models import Collection, RequestStatus, WorkRequest
from core.errors import Conflict, KarizError, NotFound
from core.exports.expiry import EXPIRED, EXPORT_KIND, expires_at
from core.exports.formats import ExportFormat, parse_format, parse_record_status
from core.exports.ids import export_id, parse_export_id
from core.exports.stream import ExportResult, resolve_path, run_export
from core.requests import (
    fail_request,
    finish_request,
    get_request,
    report_progress,
    start_request,
    submit_request,
)

log = logging.getLogger(__name__)

PUBLIC_STATUS = {
    RequestStatus.QUEUED.value: "processing",
    RequestStatus.RUNNING.value: "processing",
    RequestStatus.SUCCEEDED.value: "completed",
    RequestStatus.FAILED.value: "failed",
    RequestStatus.CANCELLED.value: "cancelled",
    EXPIRED: "expired",
}


class ExportExpired(NotFound):
    """The export succeeded, but its file has passed retention and is gone."""

    code = "EXPORT_EXPIRED"


class ExportNotReady(Conflict):
    """The export is still processing, or failed, so there is nothing to download."""

    code = "EXPORT_NOT_READY"


def public_status(request: WorkRequest) -> str:
    """The status the API shows: processing, completed, failed, cancelled or expired."""
    return PUBLIC_STATUS.get(request.status, request.status)


# ------------------------------------------------------------------ API side


def start_export(
    session: Session,
    tenant_id: uuid.UUID,
    collection: str,
    *,
    format: str = "json",
    status: str = "active",
) -> WorkRequest:
    """Queue an export of the tenant's `collection`; the caller commits.

    InvalidInput for a bad format or status, NotFound for a collection the tenant does not have.
    """
    fmt = parse_format(format)
    record_status = parse_record_status(status)
    collection_id = session.execute(
        sa.select(Collection.id).where(Collection.tenant_id == tenant_id, Collection.name == collection)
    ).scalar_one_or_none()
    if collection_id is None:
        raise NotFound(f"collection {collection!r} not found")
    params = {"collection": collection, "format": fmt.value, "status": record_status}
    return submit_request(
        session, tenant_id=tenant_id, kind=EXPORT_KIND, params=params, collection_id=collection_id
    )


def get_export(session: Session, tenant_id: uuid.UUID, public_id: str) -> WorkRequest:
    """The tenant's export by public id; NotFound for a malformed id or another tenant's export."""
    return get_request(session, tenant_id, parse_export_id(public_id), kind=EXPORT_KIND)


def active_exports(session: Session, tenant_id: uuid.UUID) -> list[WorkRequest]:
    """The tenant's exports still processing (queued or running), newest first."""
    rows = session.execute(
        sa.select(WorkRequest)
        .where(
            WorkRequest.tenant_id == tenant_id,
            WorkRequest.kind == EXPORT_KIND,
            WorkRequest.status.in_([RequestStatus.QUEUED.value, RequestStatus.RUNNING.value]),
        )
        .order_by(WorkRequest.created_at.desc())
    )
    return list(rows.scalars())


@dataclass(frozen=True)
class ExportFile:
    """A completed export, ready to stream."""

    path: Path
    filename: str
    content_type: str
    size: int


def export_file(request: WorkRequest, export_dir: Path) -> ExportFile:
    """The file of a completed export.

    ExportNotReady (409) while processing or after a failure (with its reason); ExportExpired (404)
    once retention has removed it.
    """
    public = export_id(request.id)
    status = public_status(request)
    if status == "processing":
        raise ExportNotReady(f"export {public} is still processing")
    if status == "expired":
        raise ExportExpired(f"export {public} has expired")
    if status != "completed" or not request.result:
        raise ExportNotReady(f"export {public} {status}: {request.error or 'no file'}")
    path = resolve_path(export_dir, request.result["path"])
    if path is None or not path.is_file():
        raise ExportExpired(f"export {public} file is no longer available")
    fmt = parse_format(request.result.get("format", "json"))
    return ExportFile(
        path, request.result.get("filename") or path.name, fmt.content_type, path.stat().st_size
    )


# ------------------------------------------------------------------ Dagster side (sync)


def execute_export_request(
    sessions: Callable[[], AbstractContextManager[Session]],
    engine: sa.Engine,
    request_id: uuid.UUID | str,
    run_id: str,
    *,
    export_dir: Path | None = None,
    retention_hours: float | None = None,
    progress_every: int = 10_000,
) -> ExportResult:
    """Serve one export request: mark it running, stream the file reporting progress, then mark it
    succeeded (with `expires_at`) or failed with a reason fit to show the tenant. Re-raises failures."""
    settings = core.settings.get_settings()
    root = export_dir if export_dir is not None else settings.export_dir
    assert root is not None
    request_uuid = uuid.UUID(str(request_id))
    started = time.perf_counter()
    with sessions() as session:
        request = start_request(session, request_uuid, run_id)
        tenant_id, params = request.tenant_id, dict(request.params or {})

    def progress(rows: int, total: int) -> None:
        with sessions() as session:
            report_progress(session, request_uuid, rows, total)

    try:
        result = run_export(
            engine,
            tenant_id=tenant_id,
            collection=params["collection"],
            format=params.get("format", ExportFormat.JSON.value),
            status=params.get("status", "active"),
            request_id=request_uuid,
            export_dir=root,
            progress=progress,
            progress_every=progress_every,
        )
    except KarizError as exc:
        with sessions() as session:
            fail_request(session, request_uuid, exc.message)
        raise
    except Exception as exc:
        log.exception("export %s failed", export_id(request_uuid))
        with sessions() as session:
            fail_request(session, request_uuid, f"export failed: {type(exc).__name__}")
        raise
    stored = result.as_request_result()
    stored["path"] = str(result.path.resolve().relative_to(root.resolve()))
    until = expires_at(datetime.now(UTC), retention_hours)
    with sessions() as session:
        finish_request(session, request_uuid, stored, expires_at=until)
        names = events.names_by_name(session, tenant_id, result.collection)
    if names is not None:
        events.emit(names.event(
            events.EXPORTS,
            f"export {export_id(request_uuid)} of {result.collection}: {result.rows} rows ({result.format})",
            {"export_id": export_id(request_uuid), "request_id": str(request_uuid), "format": result.format,
             "record_status": result.status, "rows": result.rows, "bytes": result.bytes,
             "columns": result.columns, "path": stored["path"],
             "expires_at": until.isoformat(),
             "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
        ))
    return result
