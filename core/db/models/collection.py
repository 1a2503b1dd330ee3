"""A collection (= vertical): a named dataset of a tenant, pointing at its active generation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, updated_at, uuid_pk


class Collection(Base):
    __tablename__ = "collections"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    name: Mapped[str] = mapped_column(sa.String(100))
    active_generation: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    # per-collection switches, e.g. {"auto_promote": true}
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    # the field(s) that identify a record in its source; remembered once set (None: content-hash dedup)
    record_key: Mapped[list[str] | None] = mapped_column(ARRAY(sa.Text))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
