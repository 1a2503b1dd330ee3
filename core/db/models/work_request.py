"""A durable request for background work; a Dagster run (run_key = request id) serves it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, uuid_pk


class RequestStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class WorkRequest(Base):
    __tablename__ = "work_requests"
    __table_args__ = (
        sa.Index("ix_work_requests_queue", "kind", "created_at", postgresql_where=sa.text("status = 'queued'")),
        sa.Index("ix_work_requests_tenant_kind", "tenant_id", "kind", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    kind: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(16), server_default=RequestStatus.QUEUED.value)
    collection_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("collections.id", ondelete="SET NULL"))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(sa.Text)
    progress: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    total: Mapped[int | None] = mapped_column(sa.BigInteger)
    run_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
