"""The `openai` provider against a real OpenAI-compatible server on loopback (llama.cpp's
llama-server running SmolLM2-135M-Instruct): streamed text through `POST /chat`, the server's token
counts, citations that only name sent sources, and retries then an `error` event for a dead peer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.chat.provider import ModelRequest, TextDelta, Usage
from core.chat.providers.openai_compatible import OpenAICompatibleChat
from core.streams.sse import parse_sse
from tests.integration.chat.documents import ask_about_the_handbook
from tests.integration.conftest import register_tenant
from tests.llm_peer import MODEL_NAME, llama_server
from tests.loopback import free_port


@pytest.fixture(scope="module")
def chat_url() -> Iterator[str]:
    with llama_server() as url:
        yield url


async def test_the_provider_streams_tokens_and_reports_usage(chat_url: str) -> None:
    model = OpenAICompatibleChat(chat_url, MODEL_NAME, max_tokens=24)
    request = ModelRequest(system="Answer in one short sentence.", history=[], question="What colour is the sky?",
                           sources=[])
    events = [e async for e in model.stream(request)]
    await model.aclose()
    deltas = [e for e in events if isinstance(e, TextDelta)]
    usage = next(e for e in events if isinstance(e, Usage))
    assert len(deltas) > 1 and "".join(d.text for d in deltas).strip()
    assert usage.prompt_tokens > 5 and 0 < usage.completion_tokens <= 24


async def test_chat_through_the_openai_provider(live_client, chat_url: str) -> None:
    live_client.app.state.chat_model = OpenAICompatibleChat(chat_url, MODEL_NAME, max_tokens=48)
    _, events, sent, _ = await ask_about_the_handbook(live_client, "llm")
    assert events[0][2]["model"] == f"openai:{MODEL_NAME}"
    assert all(c["n"] in sent for _, n, c in events if n == "citation")
    usage = events[-1][2]["usage"]
    assert usage["promptTokens"] > 20 and usage["completionTokens"] > 0  # the server's own counts
    await live_client.app.state.chat_model.aclose()


async def test_a_dead_model_endpoint_is_retried_then_reported_as_an_error_event(live_client) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    live_client.app.state.chat_model = OpenAICompatibleChat(dead, "nothing", retries=1, connect_timeout=1)
    tenant = await register_tenant(live_client, "dead-llm")
    response = await live_client.post("/api/v1/chat", headers=tenant.headers,
                                      json={"tenantId": tenant.tenant_id, "message": "hello?"})
    assert response.status_code == 200  # the stream had opened; the failure is an event
    events = parse_sse(response.text)
    assert [n for _, n, _ in events] == ["start", "sources", "error", "done"]
    assert events[2][2]["code"] == "MODEL_ERROR" and events[3][2]["finishReason"] == "error"
    chat_id = events[0][2]["chatId"]
    detail = (await live_client.get(f"/api/v1/chat/history/{chat_id}", headers=tenant.headers)).json()["data"]
    assert detail["messages"][1]["status"] == "error"
