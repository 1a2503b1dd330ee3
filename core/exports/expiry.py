"""Retention of export files: past `export_retention_hours` a file is deleted and its request
marked expired, so a download says the export has expired instead of failing on a missing file."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

import core.settings
from core.db.models import RequestStatus, WorkRequest
from core.exports.stream import resolve_path

log = logging.getLogger(__name__)

EXPORT_KIND = "export"
EXPIRED = "expired"  # a WorkRequest status of its own: the export succeeded, its file is gone


@dataclass
class ExpiryReport:
    """What one expiry pass did."""

    requests_expired: int = 0
    files_deleted: int = 0
    bytes_freed: int = 0
    expired_ids: list[uuid.UUID] = field(default_factory=list)


def expires_at(finished_at: datetime, retention_hours: float | None = None) -> datetime:
    """When an export finished at `finished_at` stops being downloadable."""
    hours = (
        core.settings.get_settings().export_retention_hours if retention_hours is None else retention_hours
    )
    return finished_at + timedelta(hours=hours)


def _delete(path: Path, report: ExpiryReport) -> None:
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return
    report.files_deleted += 1
    report.bytes_freed += size


def expire_exports(
    session: Session,
    *,
    export_dir: Path | None = None,
    retention_hours: float | None = None,
    now: datetime | None = None,
) -> ExpiryReport:
    """Delete export files past retention and mark their requests `expired`.

    Two sweeps: succeeded export requests whose `expires_at` has passed lose their file; then any
    file under `export_dir` older than the retention (by modification time, including partial
    files a crashed run left) is deleted and a request still pointing at it is expired too.
    Only files inside `export_dir` are ever deleted. The caller commits.
    """
    settings = core.settings.get_settings()
    root = export_dir if export_dir is not None else settings.export_dir
    assert root is not None
    hours = settings.export_retention_hours if retention_hours is None else retention_hours
    now = now or datetime.now(UTC)
    report = ExpiryReport()

    due = session.scalars(
        sa.select(WorkRequest)
        .where(
            WorkRequest.kind == EXPORT_KIND,
            WorkRequest.status == RequestStatus.SUCCEEDED.value,
            WorkRequest.expires_at <= now,
        )
        .with_for_update(skip_locked=True)
    ).all()
    for request in due:
        stored = (request.result or {}).get("path")
        path = resolve_path(root, stored) if stored else None
        if path is not None:
            _delete(path, report)
        request.status = EXPIRED
        report.expired_ids.append(request.id)

    cutoff = (now - timedelta(hours=hours)).timestamp()
    stale: list[str] = []
    if root.is_dir():
        for path in root.glob("*/*"):
            if path.is_file() and path.stat().st_mtime <= cutoff:
                _delete(path, report)
                stale += [str(path.relative_to(root)), str(path.resolve())]
    if stale:
        ids = session.scalars(
            sa.update(WorkRequest)
            .where(
                WorkRequest.kind == EXPORT_KIND,
                WorkRequest.status == RequestStatus.SUCCEEDED.value,
                WorkRequest.result["path"].astext.in_(stale),
            )
            .values(status=EXPIRED)
            .returning(WorkRequest.id)
        ).all()
        report.expired_ids.extend(ids)

    report.requests_expired = len(report.expired_ids)
    session.flush()
    if report.requests_expired or report.files_deleted:
        log.info(
            "expired %d export requests, deleted %d files (%d bytes)",
            report.requests_expired,
            report.files_deleted,
            report.bytes_freed,
        )
    return report
