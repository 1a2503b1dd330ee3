"""The chat in the SDK: typed events of `POST /chat` and the request body.

`client.chat(...)` yields one of the event classes below per SSE event, as it arrives:
`ChatStart`, `ChatSources`, `ChatDelta` (many), `ChatCitation`, `ChatToolCall`, `ChatToolResult`,
`ChatError` and, last, `ChatDone`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHAT_PATH = "/chat"


@dataclass(frozen=True)
class ChatSource:
    n: int
    asset_id: str
    file_name: str
    page: int | None
    chunk_id: str
    score: float
    snippet: str


@dataclass(frozen=True)
class ChatStart:
    chat_id: str
    message_id: str
    model: str


@dataclass(frozen=True)
class ChatSources:
    items: list[ChatSource]


@dataclass(frozen=True)
class ChatDelta:
    text: str


@dataclass(frozen=True)
class ChatCitation:
    n: int
    asset_id: str
    page: int | None


@dataclass(frozen=True)
class ChatToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ChatToolResult:
    id: str
    ok: bool
    output: Any


@dataclass(frozen=True)
class ChatError:
    code: str
    message: str


@dataclass(frozen=True)
class ChatUsage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class ChatDone:
    chat_id: str
    message_id: str
    finish_reason: str | None
    usage: ChatUsage
    citations: list[ChatCitation] = field(default_factory=list)


ChatEvent = ChatStart | ChatSources | ChatDelta | ChatCitation | ChatToolCall | ChatToolResult | ChatError | ChatDone


def chat_body(message: str, tenant_id: str, *, account_id: str | None = None, files: list[str] | None = None,
              prompt: str | None = None, chat_id: str | None = None) -> dict[str, Any]:
    """The JSON body of `POST /chat`."""
    body: dict[str, Any] = {"tenantId": tenant_id, "message": message}
    for key, value in (("accountId", account_id), ("files", files), ("prompt", prompt), ("chatId", chat_id)):
        if value is not None:
            body[key] = value
    return body


def _citation(d: dict[str, Any]) -> ChatCitation:
    return ChatCitation(d["n"], d["assetId"], d.get("page"))


def to_chat_event(name: str, data: Any) -> ChatEvent | None:
    """The typed event for one SSE event (None for an event this SDK does not know)."""
    if name == "start":
        return ChatStart(data["chatId"], data["messageId"], data["model"])
    if name == "sources":
        return ChatSources([ChatSource(s["n"], s["assetId"], s["fileName"], s.get("page"), s["chunkId"],
                                       s["score"], s["snippet"]) for s in data["items"]])
    if name == "delta":
        return ChatDelta(data["text"])
    if name == "citation":
        return _citation(data)
    if name == "tool_call":
        return ChatToolCall(data["id"], data["name"], data.get("arguments") or {})
    if name == "tool_result":
        return ChatToolResult(data["id"], data["ok"], data.get("output"))
    if name == "error":
        return ChatError(data["code"], data["message"])
    if name == "done":
        u = data.get("usage") or {}
        return ChatDone(data.get("chatId", ""), data.get("messageId", ""), data.get("finishReason"),
                        ChatUsage(u.get("promptTokens", 0), u.get("completionTokens", 0), u.get("totalTokens", 0)),
                        [_citation(c) for c in data.get("citations", [])])
    return None
