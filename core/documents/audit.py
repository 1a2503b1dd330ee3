"""The RAG store's audit trail: one row per event, newest first when read."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import StoreAuditEvent

FILE_UPLOADED = "file_uploaded"
SYNC_STARTED = "sync_started"
SYNC_COMPLETED = "sync_completed"
SYNC_FAILED = "sync_failed"
FILE_EXCLUDED = "file_excluded"
FILE_INCLUDED = "file_included"
FILE_DELETED = "file_deleted"
FILE_REFRESHED = "file_refreshed"


def record_event(session: Session, tenant_id: uuid.UUID, event: str, *, asset_id: uuid.UUID | None = None,
                 account_id: uuid.UUID | None = None, operation_id: uuid.UUID | None = None,
                 details: dict[str, Any] | None = None) -> None:
    """Add an audit event (the caller commits)."""
    session.add(StoreAuditEvent(tenant_id=tenant_id, event=event, asset_id=asset_id, account_id=account_id,
                                operation_id=operation_id, details=details or {}))


def list_events(session: Session, tenant_id: uuid.UUID, *, asset_id: uuid.UUID | None = None,
                account_id: uuid.UUID | None = None, limit: int = 100, offset: int = 0
                ) -> tuple[list[StoreAuditEvent], int]:
    """The tenant's events (optionally of one file, or only those of `account_id`'s files), newest
    first, and how many there are."""
    where = [StoreAuditEvent.tenant_id == tenant_id]
    if account_id is not None:
        where.append(StoreAuditEvent.account_id == account_id)
    if asset_id is not None:
        where.append(StoreAuditEvent.asset_id == asset_id)
    rows = session.execute(
        sa.select(StoreAuditEvent).where(*where).order_by(StoreAuditEvent.id.desc()).limit(limit).offset(offset)
    ).scalars().all()
    total = session.execute(sa.select(sa.func.count()).select_from(StoreAuditEvent).where(*where)).scalar_one()
    return list(rows), total
