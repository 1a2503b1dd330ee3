"""A RAG store operation (sync, refresh, resync, backfill), served by one Dagster run; and the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, uuid_pk


class StoreOperation(Base):
    __tablename__ = "store_operations"

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="in_progress")
    file_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(sa.Uuid))
    total: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    processed: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    failed: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    skipped: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    chunks: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    pages: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    current_file_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    current_file_name: Mapped[str | None] = mapped_column(sa.String(255))
    run_id: Mapped[str | None] = mapped_column(sa.String(64))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class StoreAuditEvent(Base):
    __tablename__ = "store_audit_events"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    event: Mapped[str] = mapped_column(sa.String(32))
    asset_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    account_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    operation_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    at: Mapped[datetime] = created_at()
