"""A numbered version of a collection's records: exactly one active, at most one staging."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, uuid_pk


class GenerationStatus(enum.StrEnum):
    ACTIVE = "active"
    STAGING = "staging"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"


class Generation(Base):
    __tablename__ = "generations"
    __table_args__ = (
        sa.UniqueConstraint("collection_id", "number"),
        sa.Index("uq_generations_one_active", "collection_id", unique=True,
                 postgresql_where=sa.text("status = 'active'")),
        sa.Index("uq_generations_one_staging", "collection_id", unique=True,
                 postgresql_where=sa.text("status = 'staging'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    collection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("collections.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16))
    record_count: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    created_at: Mapped[datetime] = created_at()
    activated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    vectors_dropped_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
