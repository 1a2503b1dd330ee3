"""An estimate: what the estimator found in a tenant's photos, and (only when asked) the photos."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk


class Estimate(Base):
    __tablename__ = "estimates"
    __table_args__ = (sa.Index("ix_estimates_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    provider: Mapped[str] = mapped_column(sa.String(40))
    image_count: Mapped[int] = mapped_column(sa.SmallInteger)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    images_kept: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at()


class EstimateImage(Base):
    """An uploaded photo, kept only for estimates made with `keepImages: true`."""

    __tablename__ = "estimate_images"

    estimate_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("estimates.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    content_type: Mapped[str] = mapped_column(sa.String(40))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
