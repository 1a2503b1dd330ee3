"""A record (= entity): one item of a collection generation, full-text indexed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, updated_at, uuid_pk

RECORD_STATUSES = ("active", "archived", "draft")
EMBEDDING_STATUSES = ("pending", "processing", "indexed", "failed")


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        # dedup: the same content lands once per collection generation
        sa.UniqueConstraint("collection_id", "generation", "content_hash"),
        # one record per key in a generation (keyed collections only; 0013_identity)
        sa.Index("ux_records_key", "collection_id", "generation", "record_key", unique=True,
                 postgresql_where=sa.text("record_key IS NOT NULL")),
        sa.Index("ix_records_scope", "tenant_id", "collection_id", "generation", "status"),
        sa.Index("ix_records_search_text", "search_text", postgresql_using="gin"),
        sa.Index("ix_records_identifiers", "identifiers", postgresql_using="gin"),
        sa.Index("ix_records_embedding_queue", "collection_id", "generation", "embedding_status",
                 postgresql_where=sa.text("embedding_status IN ('pending', 'processing')")),
        sa.Index("ix_records_embedding_failed", "collection_id", "generation",
                 postgresql_where=sa.text("embedding_status = 'failed'")),
        sa.CheckConstraint(f"status IN {RECORD_STATUSES}", name="status"),
        sa.CheckConstraint(f"embedding_status IN {EMBEDDING_STATUSES}", name="embedding_status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # no foreign key of its own (a trigger per inserted row): the tenant owns the collection, and
    # deleting either cascades to the records through collection_id; ix_records_scope leads with it
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    collection_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("collections.id", ondelete="CASCADE"))
    generation: Mapped[int] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.Text)
    record_type: Mapped[str] = mapped_column(sa.String(100))
    collection_data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    description_llm: Mapped[str | None] = mapped_column(sa.Text)
    source_type: Mapped[str] = mapped_column(sa.String(40), server_default="api")
    source_name: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), server_default="active")
    embedding_status: Mapped[str] = mapped_column(sa.String(16), server_default="pending")
    embedding_error: Mapped[str | None] = mapped_column(sa.Text)
    embedding_attempts: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    # the embedding queue (core/embeddings/queue.py): claim time of a 'processing' row (reclaimed
    # after a timeout), and the earliest retry of a 'pending' row after a transient failure
    embedding_claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    embedding_next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    # the record's identity in its source (the collection's `record_key` fields, canonical text);
    # NULL in a collection without a key
    record_key: Mapped[str | None] = mapped_column(sa.Text)
    search_text: Mapped[Any | None] = mapped_column(TSVECTOR)
    # normalised identifier-like tokens (part numbers, SKUs, standards) for exact matching
    identifiers: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default=sa.text("'{}'"))
    ingestion_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
