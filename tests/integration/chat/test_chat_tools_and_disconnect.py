"""Tools on the tenant's own data (the real search service, with the caller's scopes) and a client
that leaves mid-answer: generation stops and the partial answer is saved `interrupted`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from core.chat.provider import ModelEvent, ModelRequest, TextDelta
from core.chat.providers.extractive import ExtractiveChat
from core.streams.sse import drain_cancelled_producers, parse_block, parse_sse
from tests.integration.chat.documents import HANDBOOK, add_document
from tests.integration.conftest import TenantKey, register_tenant
from tests.loopback import serve_on_loopback

CHAT = "/api/v1/chat"
PARTS = [{"name": "Hex bolt M8", "material": "steel"}, {"name": "Hex nut M8", "material": "steel"},
         {"name": "Wood screw 4x40", "material": "brass"}]


async def ask(client: httpx.AsyncClient, tenant: TenantKey, message: str) -> list[tuple[int, str, dict]]:
    response = await client.post(CHAT, json={"tenantId": tenant.tenant_id, "message": message}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


async def test_tools_answer_from_the_tenants_records(live_client) -> None:
    tenant = await register_tenant(live_client, "tools")
    other = await register_tenant(live_client, "tools-other")
    for who, rows in ((tenant, PARTS), (other, [{"name": "Secret widget", "material": "gold"}])):
        response = await live_client.post("/api/v1/ingest/parts", params={"entity_type": "part"},
                                          headers=who.headers, json=rows)
        assert response.status_code == 200, response.text

    events = await ask(live_client, tenant, "Which collections do I have?")
    order = [n for _, n, _ in events]
    assert order[:2] == ["start", "sources"] and order[-1] == "done"
    call = next(d for _, n, d in events if n == "tool_call")
    result = next(d for _, n, d in events if n == "tool_result")
    assert call["name"] == "list_collections" and result["id"] == call["id"] and result["ok"] is True
    assert result["output"] == {"collections": [{"name": "parts", "records": 3}]}
    assert order.index("tool_call") < order.index("tool_result") < order.index("delta")
    answer = "".join(d["text"] for _, n, d in events if n == "delta")
    assert "parts (3 records)" in answer

    events = await ask(live_client, tenant, "Search parts for hex bolt")
    call = next(d for _, n, d in events if n == "tool_call")
    result = next(d for _, n, d in events if n == "tool_result")
    assert call["name"] == "search_records" and call["arguments"]["collection"] == "parts"
    names = [r["name"] for r in result["output"]["results"]]
    assert names[0] == "Hex bolt M8" and "Secret widget" not in names

    record_id = result["output"]["results"][0]["id"]
    events = await ask(live_client, tenant, f"Show record {record_id}")
    result = next(d for _, n, d in events if n == "tool_result")
    assert result["ok"] and result["output"]["collectionData"]["material"] == "steel"
    # another tenant's record id is simply not found
    events = await ask(live_client, other, f"Show record {record_id}")
    result = next(d for _, n, d in events if n == "tool_result")
    assert result["ok"] is False and "not found" in result["output"]["error"]

    events = await ask(live_client, tenant, "How many records are in parts?")
    result = next(d for _, n, d in events if n == "tool_result")
    assert result["output"]["records"] == 3

    chat_id = events[0][2]["chatId"]
    detail = (await live_client.get(f"/api/v1/chat/history/{chat_id}", headers=tenant.headers)).json()["data"]
    stored = detail["messages"][1]["toolCalls"]
    assert stored[0]["name"] == "collection_stats" and stored[0]["ok"] is True


async def test_a_key_without_read_scope_gets_no_tools(client, tenant_key) -> None:
    response = await client.post(f"/api/v1/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers,
                                 json={"name": "chatter", "scopes": ["chat:write"]})
    chatter = TenantKey(tenant_key.tenant_id, response.json()["data"]["apiKey"])
    events = await ask(client, chatter, "Which collections do I have?")
    assert "tool_call" not in [n for _, n, _ in events]


class PacedExtractive(ExtractiveChat):
    """The extractive model, pacing its words like a real model (so a client can leave mid-answer);
    it counts what it produced."""

    produced = 0

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        async for event in super().stream(request):
            if isinstance(event, TextDelta):
                for word in event.text.split(" "):
                    PacedExtractive.produced += 1
                    await asyncio.sleep(0.05)
                    yield TextDelta(word + " ")
            else:
                yield event


async def test_a_client_that_leaves_stops_generation_and_the_partial_answer_is_kept(async_engine, app_settings):
    app = create_app(app_settings, session_factory=async_sessionmaker(async_engine, expire_on_commit=False))
    async with serve_on_loopback(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        app.state.chat_model = PacedExtractive()
        tenant = await register_tenant(http, "leaver")
        await add_document(http, tenant, "handbook.txt", HANDBOOK * 3)
        seen: list[tuple] = []
        async with http.stream("POST", CHAT, headers=tenant.headers,
                               json={"tenantId": tenant.tenant_id, "message": "warehouse forklifts visitors"}) as r:
            assert r.status_code == 200
            buffer = ""
            async for text in r.aiter_text():
                buffer += text
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    seen.append(parse_block(block))
                if sum(1 for e in seen if e and e[1] == "delta") >= 3:
                    break
        start = seen[0][2]
        await asyncio.sleep(0.3)
        await drain_cancelled_producers()
        produced = PacedExtractive.produced
        await asyncio.sleep(0.3)
        assert PacedExtractive.produced == produced < 20  # the whole answer is ~60 words
        async with app.state.session_factory() as session:
            row = (await session.execute(sa.text("SELECT status, content, finish_reason FROM chat_messages WHERE id = :i"),
                                         {"i": uuid.UUID(start["messageId"])})).one()
        assert row.status == "interrupted" and row.finish_reason == "interrupted"
        shown = "".join(e[2]["text"] for e in seen if e and e[1] == "delta")
        assert row.content.startswith(shown.strip()[:10]) and len(row.content) < 200
