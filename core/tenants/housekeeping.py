"""Tenant housekeeping: keep derived counts true and drop long-dead API keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import ApiKey, Generation, Record

DEAD_KEY_RETENTION = timedelta(days=30)


def run_housekeeping(session: Session, tenant_id: uuid.UUID) -> dict[str, Any]:
    """Recount every generation's records and delete keys revoked or expired over 30 days ago.

    Returns what was found and done, for the run's metadata and the request's result.
    """
    counts = (
        sa.select(sa.func.count())
        .where(Record.collection_id == Generation.collection_id, Record.generation == Generation.number)
        .scalar_subquery()
    )
    recounted = session.execute(
        sa.update(Generation).where(Generation.tenant_id == tenant_id).values(record_count=counts)
    ).rowcount
    cutoff = datetime.now(UTC) - DEAD_KEY_RETENTION
    dropped = session.execute(
        sa.delete(ApiKey).where(
            ApiKey.tenant_id == tenant_id,
            sa.or_(ApiKey.revoked_at < cutoff, ApiKey.expires_at < cutoff),
        )
    ).rowcount
    by_status = dict(
        session.execute(
            sa.select(Record.status, sa.func.count()).where(Record.tenant_id == tenant_id).group_by(Record.status)
        ).all()
    )
    active_keys = session.execute(
        sa.select(sa.func.count()).select_from(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.revoked_at.is_(None))
    ).scalar_one()
    session.flush()
    return {
        "generations_recounted": recounted,
        "dead_keys_deleted": dropped,
        "records_by_status": {k: int(v) for k, v in by_status.items()},
        "active_keys": int(active_keys),
    }
