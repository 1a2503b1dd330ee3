"""One ingestion: a file or a batch of records written into a collection generation, with its summary."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, uuid_pk


class Ingestion(Base):
    __tablename__ = "ingestions"
    __table_args__ = (sa.Index("ix_ingestions_collection_created", "collection_id", "created_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    collection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("collections.id", ondelete="CASCADE"))
    generation: Mapped[int] = mapped_column(sa.Integer)
    source_type: Mapped[str] = mapped_column(sa.String(40))
    source_name: Mapped[str | None] = mapped_column(sa.String(200))
    filename: Mapped[str | None] = mapped_column(sa.String(500))
    file_format: Mapped[str | None] = mapped_column(sa.String(16))
    file_hash: Mapped[str | None] = mapped_column(sa.String(71))  # "sha256:" + 64 hex
    status: Mapped[str] = mapped_column(sa.String(16))
    submitted: Mapped[int] = mapped_column(sa.BigInteger)
    accepted: Mapped[int] = mapped_column(sa.BigInteger)
    rejected: Mapped[int] = mapped_column(sa.BigInteger)
    dedup_skipped: Mapped[int] = mapped_column(sa.BigInteger)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=sa.text("'[]'::jsonb"))
    processing_time_ms: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = created_at()
