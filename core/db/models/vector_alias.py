"""A pgvector alias: the name searches use, pointing at one vector collection (the live generation)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, updated_at


class VectorAlias(Base):
    __tablename__ = "vector_aliases"

    alias: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    # RESTRICT: a collection an alias points at cannot be dropped out from under searches
    collection_name: Mapped[str] = mapped_column(
        sa.ForeignKey("vector_collections.name", ondelete="RESTRICT"), index=True
    )
    updated_at: Mapped[datetime] = updated_at()
