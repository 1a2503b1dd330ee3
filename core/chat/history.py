"""Chats and their messages: start a turn, save an answer, list, read and delete a tenant's chats.

Functions are sync, take a `Session` and never commit (the caller owns the transaction). A chat of
another tenant is `Forbidden` and a missing one `NotFound`, as the contract says.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.chat.provider import Turn
from core.db.models import Account, Chat, ChatMessage
from core.errors import Forbidden, NotFound

HISTORY_TURNS = 10
TITLE_CHARS = 80


@dataclass(frozen=True)
class StartedTurn:
    chat_id: uuid.UUID
    account_id: uuid.UUID | None
    user_message_id: uuid.UUID
    assistant_message_id: uuid.UUID
    history: list[Turn]


@dataclass(frozen=True)
class ChatSummary:
    chat_id: uuid.UUID
    title: str
    account_id: uuid.UUID | None
    message_count: int
    created_at: datetime
    updated_at: datetime
    last_message: str | None


def owned_chat(session: Session, tenant_id: uuid.UUID, chat_id: uuid.UUID,
                     account_id: uuid.UUID | None = None) -> Chat:
    """The chat, if it is the tenant's (and the account's, for an account-bound caller)."""
    chat = session.get(Chat, chat_id)
    if chat is None:
        raise NotFound(f"chat {chat_id} not found")
    if chat.tenant_id != tenant_id or (account_id is not None and chat.account_id != account_id):
        raise Forbidden("this chat does not belong to you")
    return chat


def check_account(session: Session, tenant_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """NotFound unless the account is the tenant's."""
    found = session.scalar(sa.select(Account.id).where(Account.id == account_id, Account.tenant_id == tenant_id))
    if found is None:
        raise NotFound(f"account {account_id} not found")


def start_turn(session: Session, tenant_id: uuid.UUID, message: str, *,
                     chat_id: uuid.UUID | None, account_id: uuid.UUID | None) -> StartedTurn:
    """Open (or continue) the chat and store the user's message; the earlier turns are the context."""
    history: list[Turn] = []
    if chat_id is None:
        chat = Chat(id=uuid.uuid4(), tenant_id=tenant_id, account_id=account_id,
                    title=" ".join(message.split())[:TITLE_CHARS], message_count=0)
        session.add(chat)
        session.flush()
    else:
        chat = owned_chat(session, tenant_id, chat_id)
        rows = (session.execute(
            sa.select(ChatMessage.role, ChatMessage.content).where(ChatMessage.chat_id == chat.id)
            .order_by(ChatMessage.created_at.desc()).limit(HISTORY_TURNS))).all()
        history = [Turn(role, content) for role, content in reversed(rows) if content]
    user = ChatMessage(id=uuid.uuid4(), chat_id=chat.id, tenant_id=tenant_id, role="user", content=message,
                       status="complete")
    session.add(user)
    session.execute(sa.update(Chat).where(Chat.id == chat.id)
                          .values(message_count=Chat.message_count + 1, updated_at=sa.func.clock_timestamp()))
    session.flush()
    return StartedTurn(chat.id, chat.account_id, user.id, uuid.uuid4(), history)


def save_answer(session: Session, started: StartedTurn, tenant_id: uuid.UUID, *, content: str,
                      status: str, model: str, sources: list[dict[str, Any]], citations: list[dict[str, Any]],
                      tool_calls: list[dict[str, Any]], usage: dict[str, int], finish_reason: str | None) -> None:
    """Store the assistant's message (complete, interrupted or error) and touch the chat."""
    session.add(ChatMessage(id=started.assistant_message_id, chat_id=started.chat_id, tenant_id=tenant_id,
                            role="assistant", content=content, status=status, model=model, sources=sources,
                            citations=citations, tool_calls=tool_calls, usage=usage, finish_reason=finish_reason))
    session.execute(sa.update(Chat).where(Chat.id == started.chat_id)
                          .values(message_count=Chat.message_count + 1, updated_at=sa.func.clock_timestamp()))
    session.flush()


_LAST = (sa.select(ChatMessage.content).where(ChatMessage.chat_id == Chat.id)
         .order_by(ChatMessage.created_at.desc()).limit(1).correlate(Chat).scalar_subquery())


def list_chats(session: Session, tenant_id: uuid.UUID, *, account_id: uuid.UUID | None,
                     limit: int, offset: int) -> tuple[list[ChatSummary], int]:
    """The tenant's chats (one account's when given), most recently active first, and their total."""
    where = [Chat.tenant_id == tenant_id]
    if account_id is not None:
        where.append(Chat.account_id == account_id)
    total = session.scalar(sa.select(sa.func.count()).select_from(Chat).where(*where)) or 0
    rows = (session.execute(
        sa.select(Chat.id, Chat.title, Chat.account_id, Chat.message_count, Chat.created_at, Chat.updated_at,
                  _LAST).where(*where).order_by(Chat.updated_at.desc(), Chat.id).limit(limit).offset(offset))).all()
    return [ChatSummary(*row) for row in rows], total


def chat_messages(session: Session, chat_id: uuid.UUID) -> list[ChatMessage]:
    """A chat's messages, oldest first."""
    return list((session.scalars(
        sa.select(ChatMessage).where(ChatMessage.chat_id == chat_id).order_by(ChatMessage.created_at))).all())


def delete_chat(session: Session, tenant_id: uuid.UUID, chat_id: uuid.UUID,
                account_id: uuid.UUID | None = None) -> None:
    """Delete the chat and every message of it (Forbidden for another tenant's, or another account's
    for an account-bound caller; NotFound if missing)."""
    chat = owned_chat(session, tenant_id, chat_id, account_id)
    session.execute(sa.delete(ChatMessage).where(ChatMessage.chat_id == chat.id))
    session.execute(sa.delete(Chat).where(Chat.id == chat.id))
