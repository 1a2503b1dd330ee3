"""A tenant's conversations with the grounded chat, and their messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, created_at, tenant_fk, uuid_pk

MESSAGE_ROLES = ("user", "assistant")
# complete: answered in full; interrupted: the client left mid-answer (the partial text is kept);
# error: the model or a tool failed after the stream opened
MESSAGE_STATUSES = ("complete", "interrupted", "error")


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (sa.Index("ix_chats_tenant_updated", "tenant_id", sa.text("updated_at DESC")),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    account_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    message_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    created_at: Mapped[datetime] = created_at()
    # set explicitly whenever a message is added (history sorts on it)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        sa.Index("ix_chat_messages_chat_created", "chat_id", "created_at"),
        sa.CheckConstraint("role IN ('user', 'assistant')", name="role"),
        sa.CheckConstraint("status IN ('complete', 'interrupted', 'error')", name="status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    chat_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("chats.id", ondelete="CASCADE"))
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    role: Mapped[str] = mapped_column(sa.String(16))
    content: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), server_default="complete")
    model: Mapped[str | None] = mapped_column(sa.String(200))
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=sa.text("'[]'::jsonb"))
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=sa.text("'[]'::jsonb"))
    tool_calls: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=sa.text("'[]'::jsonb"))
    usage: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    finish_reason: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.clock_timestamp())
