"""One chat turn as a stream of events: `start`, `sources`, then `delta`s with `citation`s and
`tool_call`/`tool_result` pairs as the model produces them, and `done` (after an `error` if the
model failed). The turn keeps what it produced in `result`, so the caller can save it, also when
the client left half way (`status = interrupted`)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from core.chat.citations import CitationFilter
from core.chat.provider import (
    ChatModel,
    Finish,
    ModelRequest,
    Source,
    TextDelta,
    ToolCallRequest,
    ToolOutcome,
    Usage,
)
from core.chat.tools import ToolBox
from core.streams.sse import StreamEvent, error_payload

log = logging.getLogger(__name__)
MAX_TOOL_ROUNDS = 3


@dataclass
class TurnResult:
    """What the turn produced so far."""

    text: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    status: str = "interrupted"  # until the turn completes or fails
    error: dict[str, str] | None = None

    @property
    def answer(self) -> str:
        return "".join(self.text)

    @property
    def usage(self) -> dict[str, int]:
        return {"promptTokens": self.prompt_tokens, "completionTokens": self.completion_tokens,
                "totalTokens": self.prompt_tokens + self.completion_tokens}


@dataclass
class ChatTurn:
    model: ChatModel
    request: ModelRequest  # sources are filled in by `retrieve`
    chat_id: str
    message_id: str
    tools: ToolBox
    retrieve: Callable[[], Awaitable[list[Source]]]
    result: TurnResult = field(default_factory=TurnResult)

    async def events(self) -> AsyncIterator[StreamEvent]:
        """The turn's events, in contract order; cancellation stops the model at once."""
        yield StreamEvent("start", {"chatId": self.chat_id, "messageId": self.message_id, "model": self.model.name})
        try:
            async with aclosing(self._answer()) as answer:
                async for event in answer:
                    yield event
            self.result.status = "complete"
        except asyncio.CancelledError:
            self.result.status, self.result.finish_reason = "interrupted", "interrupted"
            raise
        except Exception as exc:
            if not hasattr(exc, "code"):
                log.exception("chat turn %s failed", self.message_id)
            self.result.status, self.result.finish_reason = "error", "error"
            self.result.error = error_payload(exc)
            yield StreamEvent("error", self.result.error)
        yield StreamEvent("done", {"chatId": self.chat_id, "messageId": self.message_id,
                                   "finishReason": self.result.finish_reason, "usage": self.result.usage,
                                   "citations": self.result.citations})

    async def _answer(self) -> AsyncIterator[StreamEvent]:
        sources = await self.retrieve()
        self.result.sources = [s.event_item() for s in sources]
        yield StreamEvent("sources", {"items": self.result.sources})
        request = dataclasses.replace(self.request, sources=sources)
        citations = CitationFilter({s.n: s for s in sources})
        rounds: list[list[ToolOutcome]] = []
        for round_number in range(MAX_TOOL_ROUNDS + 1):
            calls: list[ToolCallRequest] = []
            async with aclosing(self.model.stream(request)) as stream:
                async for event in stream:
                    for item in self._model_event(event, citations, calls):
                        yield item
            if not calls or round_number == MAX_TOOL_ROUNDS:
                break
            outcomes = []
            for call in calls:
                outcome = await self.tools.run(call)
                outcomes.append(outcome)
                self.result.tool_calls.append({"id": outcome.id, "name": outcome.name, "arguments": outcome.arguments,
                                               "ok": outcome.ok, "output": outcome.output})
                yield StreamEvent("tool_result", {"id": outcome.id, "ok": outcome.ok, "output": outcome.output})
            rounds.append(outcomes)
            request = dataclasses.replace(request, tool_rounds=list(rounds))
        for item in self._text(citations.flush()):
            yield item
        if self.result.finish_reason in (None, "tool_calls"):
            self.result.finish_reason = "stop"

    def _model_event(self, event: object, citations: CitationFilter,
                     calls: list[ToolCallRequest]) -> list[StreamEvent]:
        if isinstance(event, TextDelta):
            return self._text(citations.feed(event.text))
        if isinstance(event, ToolCallRequest):
            calls.append(event)
            return [StreamEvent("tool_call", {"id": event.id, "name": event.name, "arguments": event.arguments})]
        if isinstance(event, Usage):
            self.result.prompt_tokens += event.prompt_tokens
            self.result.completion_tokens += event.completion_tokens
        elif isinstance(event, Finish):
            self.result.finish_reason = event.reason
        return []

    def _text(self, filtered: tuple[str, list[dict[str, Any]]]) -> list[StreamEvent]:
        text, new_citations = filtered
        out = []
        if text:
            self.result.text.append(text)
            out.append(StreamEvent("delta", {"text": text}))
        for citation in new_citations:
            self.result.citations.append(citation)
            out.append(StreamEvent("citation", citation))
        return out
