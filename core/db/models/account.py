"""A person's account inside a tenant, with a role (admin, member, viewer)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, updated_at, uuid_pk


class Role(enum.StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "email"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    email: Mapped[str] = mapped_column(sa.String(320))
    name: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(sa.Enum(Role, name="account_role", values_callable=lambda e: [m.value for m in e]))
    disabled: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
