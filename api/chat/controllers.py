"""`POST /chat` (grounded answer over Server-Sent Events, or one JSON body) and the chat history:
`GET /chat/history`, `GET /chat/history/{chatId}`, `DELETE /chat/history/{chatId}`.

Everything that can be refused is checked before the stream opens (body, tenant, account, files,
chat ownership, token quota), so bad input gets a normal 4xx; after the first byte a failure is an
`error` event followed by `done`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Response, delete, get, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Operation
from litestar.params import Parameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from api.auth.guards import own_tenant, requires_scope
from api.auth.principal import AuthedRequest, Principal
from api.chat.schemas import (
    ChatAnswer,
    ChatAnswerResponse,
    ChatBody,
    ChatDetail,
    ChatDetailResponse,
    ChatEventTypes,
    ChatHistoryResponse,
    ChatSummaryView,
    DeletedChat,
    DeletedChatResponse,
    MessageView,
    Pagination,
)
from api.chat.turns import TurnPlan, run_turn
from api.streams import sse_response
from api.usage.hooks import plan_limits
from api.worker_sessions import run_in_worker_session
from core.chat import history
from core.chat.grounding import check_files
from core.chat.tools import TOOL_SCOPE
from core.errors import InvalidInput, RateLimited
from core.streams.sse import StreamEvent

MAX_MESSAGE_CHARS = 8000
MAX_PROMPT_CHARS = 4000
MAX_FILES = 100


def _uuid(value: str | None, name: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{name} must be a UUID") from None


def _bound_account(principal: Principal) -> uuid.UUID | None:
    """The account a member's or viewer's credential confines the chat to: its own documents and
    chats. Tenant admins (and tenant-wide keys) see the whole tenant."""
    return principal.bound_account


def _iso(value: Any) -> str:
    return value.isoformat()


def _wants_json(request: AuthedRequest, data: ChatBody) -> bool:
    accept = request.headers.get("accept", "")
    return not data.stream or ("application/json" in accept and "text/event-stream" not in accept)


async def _gather(events: Any) -> ChatAnswer:
    """The events of a turn folded into one answer."""
    parts: list[str] = []
    start: dict[str, Any] = {}
    done: dict[str, Any] = {}
    sources: list[dict[str, Any]] = []
    calls: dict[str, dict[str, Any]] = {}
    error: dict[str, str] | None = None
    event: StreamEvent
    async for event in events:
        if event.event == "start":
            start = event.data
        elif event.event == "sources":
            sources = event.data["items"]
        elif event.event == "delta":
            parts.append(event.data["text"])
        elif event.event == "tool_call":
            calls[event.data["id"]] = {**event.data, "ok": False, "output": None}
        elif event.event == "tool_result":
            calls.setdefault(event.data["id"], {"id": event.data["id"], "name": "", "arguments": {}}).update(
                ok=event.data["ok"], output=event.data["output"])
        elif event.event == "error":
            error = event.data
        elif event.event == "done":
            done = event.data
    import msgspec

    return msgspec.convert({
        "chatId": start["chatId"], "messageId": start["messageId"], "model": start["model"],
        "answer": "".join(parts), "sources": sources, "citations": done.get("citations", []),
        "toolCalls": list(calls.values()), "usage": done["usage"], "finishReason": done.get("finishReason"),
        "status": "error" if error else "complete", "error": error,
    }, ChatAnswer)


EVENTS_DOC_STATUS = 299  # a carrier only: StreamingOperation moves its content under 200


@dataclass
class StreamingOperation(Operation):
    """An operation whose 200 answers either `text/event-stream` or JSON: both media types are
    listed under 200 (Litestar's ResponseSpec takes one, so the stream's schema rides on a
    placeholder status that is folded in here)."""

    def __post_init__(self) -> None:
        responses = self.responses or {}
        carrier = responses.pop(str(EVENTS_DOC_STATUS), None)
        ok = responses.get("200")
        if carrier is not None and ok is not None and ok.content is not None and carrier.content:
            ok.content.update(carrier.content)


class ChatController(Controller):
    path = "/chat"
    tags = ["chat"]

    @post("/", operation_id="chat", status_code=200, guards=[requires_scope("chat:write")],
          summary="Ask the grounded chat (streaming SSE)",
          description=(
              "Answers `message` from the tenant's RAG store, streamed as Server-Sent Events "
              "(`text/event-stream`): `start`, `sources` (before any text), `delta` (many), `citation` "
              "(the first time `[n]` is cited; numbers not among the sources are stripped), `tool_call` "
              "and `tool_result`, `error` (a failure after the stream opened), then `done` with the "
              "token usage and the citations. Every event has a rising `id:` and JSON `data:` (shapes: "
              "the `ChatEventTypes` schema); a `: ping` comment follows 15 s of silence. "
              "`Accept: application/json` or `stream: false` returns the same content as one JSON body "
              "(`ChatAnswerResponse`). Validation, authorisation and the token quota (429) are checked "
              "before the stream opens. Scope `chat:write`."),
          responses={
              200: ResponseSpec(ChatAnswerResponse, description=(
                  "`text/event-stream` of the events in `ChatEventTypes` (default), or this JSON body "
                  "with `Accept: application/json` / `stream: false`")),
              EVENTS_DOC_STATUS: ResponseSpec(ChatEventTypes, description="the data of each SSE event",
                                              media_type="text/event-stream"),
          }, operation_class=StreamingOperation)
    async def chat(self, request: AuthedRequest, data: ChatBody, db_session: AsyncSession,
                   state: State) -> Stream | Response[ChatAnswerResponse]:
        principal = request.user
        tenant_id = _uuid(data.tenant_id, "tenantId")
        own_tenant(principal, tenant_id)
        message = data.message.strip() if isinstance(data.message, str) else ""
        if not 1 <= len(message) <= MAX_MESSAGE_CHARS:
            raise InvalidInput(f"message must be 1-{MAX_MESSAGE_CHARS} characters")
        if data.prompt is not None and len(data.prompt) > MAX_PROMPT_CHARS:
            raise InvalidInput(f"prompt must be at most {MAX_PROMPT_CHARS} characters")
        account_id = _uuid(data.account_id, "accountId")
        bound = _bound_account(principal)
        if bound is not None and account_id not in (None, bound):
            raise InvalidInput("this key is bound to another account")
        account_id = account_id or bound
        chat_id = _uuid(data.chat_id, "chatId")
        file_ids = None
        if data.files is not None:
            if len(data.files) > MAX_FILES:
                raise InvalidInput(f"files lists at most {MAX_FILES} asset ids")
            file_ids = [_uuid(f, "files[]") for f in data.files]
        limits = await plan_limits(request, tenant_id)
        usage = await state.usage.peek(tenant_id, limits)

        def start(session: Session) -> history.StartedTurn:
            if account_id is not None:
                history.check_account(session, tenant_id, account_id)
            if file_ids:
                check_files(session, tenant_id, file_ids, account_id=bound)
            if chat_id is not None:
                history.owned_chat(session, tenant_id, chat_id, bound)
            if usage.remaining_tokens() <= 0:
                raise RateLimited("monthly token quota used up; resets on the billing anchor day",
                                  retry_after=max(1, usage.windows.seconds_to_next_day))
            return history.start_turn(session, tenant_id, message, chat_id=chat_id, account_id=account_id)

        started = await run_in_worker_session(db_session, start, commit=True)
        plan = TurnPlan(tenant_id, started, message, data.prompt, file_ids or None,
                        principal.allows(TOOL_SCOPE), limits)
        if _wants_json(request, data):
            answer = await _gather(run_turn(state, plan))
            return Response(ChatAnswerResponse(success=True, data=answer), status_code=200)
        return sse_response(run_turn(state, plan))


class ChatHistoryController(Controller):
    path = "/chat/history"
    tags = ["chat"]

    @get("/", operation_id="listChatHistory", guards=[requires_scope("chat:read")],
         summary="List conversations",
         description="The tenant's conversations (an account's with `accountId`), most recently active "
                     "first, with their message counts and last message. Scope `chat:read`.")
    async def list_history(
        self, request: AuthedRequest, db_session: AsyncSession,
        tenant_id: str | None = Parameter(query="tenantId", default=None),
        account_id: str | None = Parameter(query="accountId", default=None),
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0, le=100_000),
    ) -> ChatHistoryResponse:
        principal = request.user
        tenant = _uuid(tenant_id, "tenantId") or principal.tenant_id
        own_tenant(principal, tenant)
        account = _uuid(account_id, "accountId")
        bound = _bound_account(principal)
        if bound is not None:
            if account not in (None, bound):
                raise InvalidInput("this key is bound to another account")
            account = bound
        items, total = await run_in_worker_session(
            db_session, lambda s: history.list_chats(s, tenant, account_id=account, limit=limit, offset=offset))
        return ChatHistoryResponse(
            success=True,
            data=[ChatSummaryView(chat_id=str(c.chat_id), title=c.title,
                                  account_id=str(c.account_id) if c.account_id else None,
                                  message_count=c.message_count, created_at=_iso(c.created_at),
                                  updated_at=_iso(c.updated_at),
                                  last_message=(c.last_message or "")[:200] or None) for c in items],
            pagination=Pagination(limit=limit, offset=offset, total=total, has_more=offset + len(items) < total))

    @get("/{chat_id:uuid}", operation_id="getChat", guards=[requires_scope("chat:read")],
         summary="One conversation with its messages",
         description="The chat and every message (citations, sources, tool calls, usage, status). "
                     "403 when it belongs to another tenant, 404 when it does not exist. Scope `chat:read`.")
    async def get_chat(self, request: AuthedRequest, chat_id: uuid.UUID, db_session: AsyncSession) -> ChatDetailResponse:
        tenant, bound = request.user.tenant_id, _bound_account(request.user)
        chat, messages = await run_in_worker_session(db_session, lambda s: (
            history.owned_chat(s, tenant, chat_id, bound), history.chat_messages(s, chat_id)))
        return ChatDetailResponse(success=True, data=ChatDetail(
            chat_id=str(chat.id), title=chat.title, account_id=str(chat.account_id) if chat.account_id else None,
            message_count=chat.message_count, created_at=_iso(chat.created_at), updated_at=_iso(chat.updated_at),
            messages=[MessageView(message_id=str(m.id), role=m.role, content=m.content, status=m.status,
                                  model=m.model, sources=m.sources, citations=m.citations, tool_calls=m.tool_calls,
                                  usage=m.usage, finish_reason=m.finish_reason, created_at=_iso(m.created_at))
                      for m in messages]))

    @delete("/{chat_id:uuid}", operation_id="deleteChat", guards=[requires_scope("chat:delete")], status_code=200,
            summary="Delete a conversation",
            description="Permanently deletes the chat and all its messages. 403 when it belongs to another "
                        "tenant, 404 when it does not exist. Scope `chat:delete`.")
    async def delete_chat(self, request: AuthedRequest, chat_id: uuid.UUID,
                          db_session: AsyncSession) -> DeletedChatResponse:
        tenant, bound = request.user.tenant_id, _bound_account(request.user)
        await run_in_worker_session(db_session, lambda s: history.delete_chat(s, tenant, chat_id, bound),
                                    commit=True)
        return DeletedChatResponse(success=True, data=DeletedChat(chat_id=str(chat_id), deleted=True))


ROUTES = [ChatController, ChatHistoryController]
