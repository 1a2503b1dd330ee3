"""A sign-in session that portal JWTs come from: an API-key exchange or a password login.

Every JWT carries its session's id (`sid`); the token is valid only while its session row exists,
is neither revoked nor expired and, for a key session, its key is neither revoked nor expired.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, uuid_pk

SESSION_KINDS = ("key", "password")


class AuthSession(Base):
    __tablename__ = "auth_sessions"
    __table_args__ = (sa.CheckConstraint("kind IN ('key', 'password')", name="kind"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    kind: Mapped[str] = mapped_column(sa.String(16))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
