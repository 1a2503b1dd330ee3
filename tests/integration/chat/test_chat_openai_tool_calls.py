"""Native tool calls from a real OpenAI-compatible server: llama-server running SmolLM2-135M under
the Hermes-style tools template (`tests/llm_peer_tools.jinja`) returns `tool_calls` deltas; the
chat runs them on the tenant's own data with the real search service, streams `tool_call` and
`tool_result`, and stores both with the message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.chat.providers.openai_compatible import OpenAICompatibleChat
from core.streams.sse import parse_sse
from tests.integration.conftest import register_tenant
from tests.llm_peer import MODEL_NAME, llama_server

PACKAGES = [{"name": "gzip", "summary": "GNU compression utility for packages"},
            {"name": "xz-utils", "summary": "XZ-format compression utilities for packages"},
            {"name": "less", "summary": "pager program similar to more"}]


@pytest.fixture(scope="module")
def tools_url() -> Iterator[str]:
    with llama_server(tools=True) as url:
        yield url


async def test_the_model_calls_search_records_natively_and_the_call_is_stored(live_client, tools_url: str) -> None:
    live_client.app.state.chat_model = OpenAICompatibleChat(tools_url, MODEL_NAME, max_tokens=64,
                                                            tool_choice="required")
    tenant = await register_tenant(live_client, "native-tools")
    other = await register_tenant(live_client, "native-tools-other")
    for who, rows in ((tenant, PACKAGES), (other, [{"name": "secret-zip", "summary": "compression of another tenant"}])):
        response = await live_client.post("/api/v1/ingest/packages", params={"entity_type": "package"},
                                          headers=who.headers, json=rows)
        assert response.status_code == 200, response.text

    response = await live_client.post("/api/v1/chat", headers=tenant.headers, json={
        "tenantId": tenant.tenant_id, "message": "Search the packages collection for compression."})
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    order = [n for _, n, _ in events]
    assert order[:2] == ["start", "sources"] and order[-1] == "done" and "error" not in order
    call = next(d for _, n, d in events if n == "tool_call")
    result = next(d for _, n, d in events if n == "tool_result")
    assert order.index("tool_call") < order.index("tool_result")
    assert call["name"] == "search_records" and call["arguments"]["collection"] == "packages"
    assert result["id"] == call["id"] and result["ok"] is True
    assert result["output"]["collection"] == "packages"
    names = {r["name"] for r in result["output"]["results"]}
    assert names == {"gzip", "xz-utils"}  # the real search over the tenant's own records only

    chat_id = events[0][2]["chatId"]
    detail = (await live_client.get(f"/api/v1/chat/history/{chat_id}", headers=tenant.headers)).json()["data"]
    stored = detail["messages"][1]["toolCalls"]
    assert [(s["id"], s["name"], s["ok"]) for s in stored][0] == (call["id"], "search_records", True)
    assert stored[0]["output"] == result["output"]
    await live_client.app.state.chat_model.aclose()
