"""Running a validated chat turn: the events of `core.chat.turn.ChatTurn` on a session of their
own (the stream outlives the request's), the answer saved and its tokens counted when the turn
ends, is interrupted by a disconnect, or fails."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from litestar.datastructures import State

from api.worker_sessions import run_in_worker_session
from core.chat import history
from core.chat.grounding import retrieve_sources
from core.chat.provider import ChatModel, ModelRequest
from core.chat.tools import ToolBox
from core.chat.turn import ChatTurn
from core.streams.sse import StreamEvent
from core.usage.counters import PlanLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnPlan:
    """Everything validated before the stream opens."""

    tenant_id: uuid.UUID
    started: history.StartedTurn
    question: str
    prompt: str | None
    file_ids: list[uuid.UUID] | None
    tools_allowed: bool
    limits: PlanLimits


def chat_model(state: State) -> ChatModel:
    """The app's chat provider, made from the settings on first use."""
    model = state.get("chat_model")
    if model is None:
        from core.chat.providers import make_chat_model

        model = state.chat_model = make_chat_model(state.settings)
    return model


async def run_turn(state: State, plan: TurnPlan) -> AsyncIterator[StreamEvent]:
    """The turn's events; on any exit the assistant message is saved (`complete`, `interrupted`
    or `error`) and the tokens are counted into the tenant's monthly usage."""
    model = chat_model(state)
    async with state.session_factory() as session:
        tools = ToolBox(session, plan.tenant_id, plan.tools_allowed)
        from core.chat.prompts import system_prompt

        collections = await tools.collection_names()
        request = ModelRequest(system="", history=plan.started.history, question=plan.question, sources=[],
                               tools=tools.specs, collections=collections)

        async def retrieve():
            sources = await run_in_worker_session(session, lambda s: retrieve_sources(
                s, plan.tenant_id, plan.question, account_id=plan.started.account_id, file_ids=plan.file_ids))
            # the system prompt names the sources, so it is written once they are known
            turn.request = ModelRequest(system=system_prompt(sources, plan.prompt, collections),
                                        history=request.history, question=request.question, sources=[],
                                        tools=request.tools, collections=collections)
            return sources

        turn = ChatTurn(model, request, str(plan.started.chat_id), str(plan.started.assistant_message_id),
                        tools, retrieve)
        try:
            async for event in turn.events():
                yield event
        finally:
            result = turn.result
            try:
                await session.rollback()  # whatever the tools' reads left open
                await run_in_worker_session(session, lambda s: history.save_answer(
                    s, plan.started, plan.tenant_id, content=result.answer, status=result.status,
                    model=model.name, sources=result.sources, citations=result.citations,
                    tool_calls=result.tool_calls, usage=result.usage,
                    finish_reason=result.finish_reason or result.status), commit=True)
            except Exception:
                log.exception("could not save chat message %s", plan.started.assistant_message_id)
            total = result.usage["totalTokens"]
            if total:
                await state.usage.hit(plan.tenant_id, plan.limits, tokens=total, count_request=False)
