"""A stored pull connector to a tenant's own database; its credentials are Fernet-encrypted."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, updated_at, uuid_pk


class Connector(Base):
    __tablename__ = "connectors"
    __table_args__ = (sa.CheckConstraint("pull_mode IN ('append', 'mirror')", name="pull_mode"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    name: Mapped[str] = mapped_column(sa.String(200))
    connector_type: Mapped[str] = mapped_column(sa.String(20))
    collection_name: Mapped[str] = mapped_column("vertical", sa.String(100))
    entity_type: Mapped[str] = mapped_column(sa.String(100))
    config_encrypted: Mapped[str] = mapped_column(sa.Text)
    query: Mapped[str] = mapped_column(sa.Text)
    name_column: Mapped[str | None] = mapped_column(sa.String(200))
    # record identity (0013_identity): the key column, a soft-delete column, and 'mirror' to archive
    # the records a full pull no longer returns
    key_column: Mapped[str | None] = mapped_column(sa.String(200))
    deleted_column: Mapped[str | None] = mapped_column(sa.String(200))
    pull_mode: Mapped[str] = mapped_column(sa.String(16), server_default="append")
    batch_size: Mapped[int] = mapped_column(sa.Integer, server_default="5000")
    schedule: Mapped[str | None] = mapped_column(sa.String(100))
    # the watermark bound to `:last_pull`: taken before the last successful pull started
    last_pull_watermark: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_pull_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # the last pull's outcome (running, succeeded, failed) and its credential-free error (0006_connectors)
    last_status: Mapped[str | None] = mapped_column(sa.String(16))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
