"""A piece of a synced file's text (full text in `tsv`); its vector has the same id.

`account_id` and `retrievable` (the file is in the store and not excluded) are copies of the file's
columns that PostgreSQL keeps (migration 0017's triggers), so retrieval filters chunks alone."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base


class FileChunk(Base):
    __tablename__ = "file_chunks"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    file_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("files.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)  # set from the file by a trigger
    retrievable: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())  # likewise
    ordinal: Mapped[int] = mapped_column(sa.Integer)
    page: Mapped[int | None] = mapped_column(sa.Integer)
    text: Mapped[str] = mapped_column(sa.Text)
    tokens: Mapped[int] = mapped_column(sa.Integer)
    tsv: Mapped[str | None] = mapped_column(
        TSVECTOR, sa.Computed("to_tsvector('english'::regconfig, text)", persisted=True)
    )


class VectorCleanup(Base):
    """A vector id that may have lost its chunk; the next sync of the tenant deletes it if so."""

    __tablename__ = "store_vector_cleanup"

    chunk_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    created_at: Mapped[object] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
