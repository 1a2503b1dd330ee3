"""`POST /chat` with the offline extractive model: event order and shapes, grounding with and
without relevant documents, citation validity, the JSON form, tools, usage and the token quota."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from api.usage.hooks import forget_limits
from core.chat.providers.extractive import NOTHING_FOUND
from core.db.models import Tenant
from core.streams.sse import parse_sse
from tests.integration.chat.documents import HANDBOOK, RETURNS, add_document
from tests.integration.conftest import TenantKey, register_tenant

CHAT = "/api/v1/chat"


async def ask(client: httpx.AsyncClient, tenant: TenantKey, message: str, **extra) -> list[tuple[int, str, dict]]:
    response = await client.post(CHAT, json={"tenantId": tenant.tenant_id, "message": message, **extra},
                                 headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse_sse(response.text)


def names(events) -> list[str]:
    return [name for _, name, _ in events]


async def test_a_grounded_answer_streams_in_contract_order(live_client) -> None:
    client, tenant_key = live_client, await register_tenant(live_client, "chat")
    handbook = await add_document(client, tenant_key, "handbook.txt", HANDBOOK)
    await add_document(client, tenant_key, "returns.txt", RETURNS)
    events = await ask(client, tenant_key, "When does the warehouse open?")
    assert [i for i, _, _ in events] == list(range(1, len(events) + 1))
    order = names(events)
    assert order[0] == "start" and order[1] == "sources" and order[-1] == "done"
    assert "delta" in order and "citation" in order
    start, sources, done = events[0][2], events[1][2], events[-1][2]
    assert set(start) == {"chatId", "messageId", "model"} and start["model"] == "extractive"
    assert set(sources["items"][0]) == {"n", "assetId", "fileName", "page", "chunkId", "score", "snippet"}
    answer = "".join(d["text"] for _, n, d in events if n == "delta")
    assert "7 am" in answer
    cited = [d for _, n, d in events if n == "citation"]
    by_n = {s["n"]: s for s in sources["items"]}
    assert cited and all(c["n"] in by_n and c["assetId"] == by_n[c["n"]]["assetId"] for c in cited)
    assert cited[0]["assetId"] == handbook and f"[{cited[0]['n']}]" in answer
    # a citation event comes after the delta that first shows its marker, never before any text
    assert order.index("citation") > order.index("delta")
    assert done["chatId"] == start["chatId"] and done["messageId"] == start["messageId"]
    assert done["finishReason"] == "stop" and done["citations"] == cited
    usage = done["usage"]
    assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"] > 0


async def test_without_relevant_documents_it_says_so_and_cites_nothing(live_client) -> None:
    client, tenant_key = live_client, await register_tenant(live_client, "chat")
    await add_document(client, tenant_key, "handbook.txt", HANDBOOK)
    events = await ask(client, tenant_key, "What is the capital of Mongolia?")
    answer = "".join(d["text"] for _, n, d in events if n == "delta")
    assert answer == NOTHING_FOUND
    assert "citation" not in names(events) and events[-1][2]["citations"] == []


async def test_an_empty_store_still_answers_that_nothing_was_found(client, tenant_key) -> None:
    events = await ask(client, tenant_key, "When does the warehouse open?")
    assert events[1][2] == {"items": []}
    assert "".join(d["text"] for _, n, d in events if n == "delta") == NOTHING_FOUND


async def test_json_answer_carries_the_same_content(live_client) -> None:
    client, tenant_key = live_client, await register_tenant(live_client, "chat")
    await add_document(client, tenant_key, "returns.txt", RETURNS)
    response = await client.post(CHAT, json={"tenantId": tenant_key.tenant_id, "message": "How long do refunds take?",
                                             "stream": False}, headers=tenant_key.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    data = response.json()["data"]
    assert "five business days [1]" in data["answer"]
    assert data["citations"] == [{"n": 1, "assetId": data["sources"][0]["assetId"], "page": None}]
    assert data["status"] == "complete" and data["usage"]["totalTokens"] > 0
    via_accept = await client.post(CHAT, json={"tenantId": tenant_key.tenant_id, "message": "How long do refunds take?"},
                                   headers={**tenant_key.headers, "Accept": "application/json"})
    assert via_accept.json()["data"]["answer"] == data["answer"]


async def test_tokens_count_into_monthly_usage_and_the_quota_refuses_before_streaming(live_client) -> None:
    client, tenant_key = live_client, await register_tenant(live_client, "chat")
    tenant_id = uuid.UUID(tenant_key.tenant_id)
    async with client.app.state.session_factory() as session:
        await session.execute(sa.update(Tenant).where(Tenant.id == tenant_id).values(monthly_token_limit=60))
        await session.commit()
    forget_limits(tenant_id)
    await add_document(client, tenant_key, "returns.txt", RETURNS)
    before = (await client.get("/api/v1/usage", headers=tenant_key.headers)).json()["data"]["tokens"]["used"]
    events = await ask(client, tenant_key, "How long do refunds take?")
    spent = events[-1][2]["usage"]["totalTokens"]
    usage = await client.get("/api/v1/usage", headers=tenant_key.headers)
    assert usage.json()["data"]["tokens"]["used"] == before + spent
    assert int(usage.headers["X-Usage-Tokens-Remaining"]) == max(0, 60 - before - spent)
    refused = await client.post(CHAT, json={"tenantId": tenant_key.tenant_id, "message": "And damaged items?"},
                                headers=tenant_key.headers)
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"].startswith("application/json")
    assert refused.json()["success"] is False
