"""Bodies and typed responses of `POST /chat` and the chat history routes (camelCase on the wire)."""

from __future__ import annotations

from typing import Any

import msgspec


class ChatBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """`POST /chat`: `message` 1-8,000 characters; `files` restricts retrieval to those asset ids;
    `prompt` adds tenant instructions; `chatId` continues a conversation; `stream: false` (or
    `Accept: application/json`) answers with one JSON body instead of events."""

    tenant_id: str
    message: str
    account_id: str | None = None
    files: list[str] | None = None
    prompt: str | None = None
    chat_id: str | None = None
    stream: bool = True


class SourceItem(msgspec.Struct, rename="camel"):
    n: int
    asset_id: str
    file_name: str
    page: int | None
    chunk_id: str
    score: float
    snippet: str


class Citation(msgspec.Struct, rename="camel"):
    n: int
    asset_id: str
    page: int | None


class ToolCallRecord(msgspec.Struct, rename="camel"):
    id: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    output: Any


class TokenUsage(msgspec.Struct, rename="camel"):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatError(msgspec.Struct, rename="camel"):
    code: str
    message: str


class ChatAnswer(msgspec.Struct, rename="camel"):
    """The whole turn at once (what the events carry, gathered)."""

    chat_id: str
    message_id: str
    model: str
    answer: str
    sources: list[SourceItem]
    citations: list[Citation]
    tool_calls: list[ToolCallRecord]
    usage: TokenUsage
    finish_reason: str | None
    status: str
    error: ChatError | None = None


class ChatAnswerResponse(msgspec.Struct):
    success: bool
    data: ChatAnswer


class StartEvent(msgspec.Struct, rename="camel"):
    chat_id: str
    message_id: str
    model: str


class SourcesEvent(msgspec.Struct):
    items: list[SourceItem]


class DeltaEvent(msgspec.Struct):
    text: str


class ToolCallEvent(msgspec.Struct):
    id: str
    name: str
    arguments: dict[str, Any]


class ToolResultEvent(msgspec.Struct):
    id: str
    ok: bool
    output: Any


class DoneEvent(msgspec.Struct, rename="camel"):
    chat_id: str
    message_id: str
    finish_reason: str | None
    usage: TokenUsage
    citations: list[Citation]


class ChatEventTypes(msgspec.Struct):
    """The `data:` of each SSE event `POST /chat` sends, by event name, in this order: `start`,
    `sources`, then `delta` (many), `citation` (the first time `[n]` is cited), `tool_call` and
    `tool_result`, `error` (a failure after the stream opened), and `done`. Ids rise from 1; a
    `: ping` comment follows 15 s of silence."""

    start: StartEvent
    sources: SourcesEvent
    delta: DeltaEvent
    citation: Citation
    tool_call: ToolCallEvent
    tool_result: ToolResultEvent
    error: ChatError
    done: DoneEvent


class ChatSummaryView(msgspec.Struct, rename="camel"):
    chat_id: str
    title: str
    account_id: str | None
    message_count: int
    created_at: str
    updated_at: str
    last_message: str | None


class Pagination(msgspec.Struct, rename="camel"):
    limit: int
    offset: int
    total: int
    has_more: bool


class ChatHistoryResponse(msgspec.Struct):
    success: bool
    data: list[ChatSummaryView]
    pagination: Pagination


class MessageView(msgspec.Struct, rename="camel"):
    message_id: str
    role: str
    content: str
    status: str
    model: str | None
    sources: list[dict[str, Any]]
    citations: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    usage: dict[str, Any]
    finish_reason: str | None
    created_at: str


class ChatDetail(msgspec.Struct, rename="camel"):
    chat_id: str
    title: str
    account_id: str | None
    message_count: int
    created_at: str
    updated_at: str
    messages: list[MessageView]


class ChatDetailResponse(msgspec.Struct):
    success: bool
    data: ChatDetail


class DeletedChat(msgspec.Struct, rename="camel"):
    chat_id: str
    deleted: bool


class DeletedChatResponse(msgspec.Struct):
    success: bool
    data: DeletedChat
