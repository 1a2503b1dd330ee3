"""A per-collection counter bumped by every write; search caches key on it, so a write invalidates them."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, updated_at


class SearchVersion(Base):
    __tablename__ = "search_versions"

    collection_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    updated_at: Mapped[datetime] = updated_at()
