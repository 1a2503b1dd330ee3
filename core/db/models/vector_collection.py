"""A pgvector collection: one generation's vectors, held in its own table in schema `kariz_vectors`."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at


class VectorCollection(Base):
    __tablename__ = "vector_collections"

    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    dimension: Mapped[int] = mapped_column(sa.Integer)
    # the points table, inside schema kariz_vectors (derived from the name: PostgreSQL names are short)
    table_name: Mapped[str] = mapped_column(sa.String(63), unique=True)
    created_at: Mapped[datetime] = created_at()
