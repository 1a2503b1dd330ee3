"""A file in an account's vault; once synced into the RAG store, its chunks live in `file_chunks`."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, updated_at, uuid_pk


class FileStatus(enum.StrEnum):
    UPLOADED = "uploaded"  # in the vault only
    PENDING = "pending"  # queued for a sync
    SYNCING = "syncing"
    ACTIVE = "active"  # chunks and vectors written
    FAILED = "failed"


class StoredFile(Base):
    __tablename__ = "files"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "account_id", "sha256"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), server_default=FileStatus.UPLOADED.value)
    in_store: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    excluded: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    title: Mapped[str | None] = mapped_column(sa.String(500))
    pages: Mapped[int | None] = mapped_column(sa.Integer)
    chunk_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    synced_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()

    @property
    def store_status(self) -> str:
        """What the store shows: `excluded` for an excluded file, else its status."""
        return "excluded" if self.excluded else self.status
