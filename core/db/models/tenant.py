"""A tenant: an organisation that owns everything else, with its plan limits."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, updated_at, uuid_pk


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(320))
    plan: Mapped[str] = mapped_column(sa.String(40), server_default="standard")
    entity_limit: Mapped[int] = mapped_column(sa.BigInteger)
    monthly_request_limit: Mapped[int] = mapped_column(sa.BigInteger)
    monthly_token_limit: Mapped[int] = mapped_column(sa.BigInteger)
    per_minute_limit: Mapped[int] = mapped_column(sa.Integer)
    daily_limit: Mapped[int] = mapped_column(sa.Integer)
    storage_limit_bytes: Mapped[int] = mapped_column(sa.BigInteger, server_default=str(1024**3))
    billing_anchor_day: Mapped[int] = mapped_column(sa.SmallInteger, server_default="1")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
