"""Chat history: sort and counts, continuing a chat, reading one, delete rules (403 another
tenant's, 404 missing), bad input refused before streaming, and tenant isolation."""

from __future__ import annotations

import uuid

import httpx

from core.streams.sse import parse_sse
from tests.integration.chat.documents import HANDBOOK, add_document
from tests.integration.conftest import TenantKey, register_tenant

CHAT = "/api/v1/chat"
HISTORY = "/api/v1/chat/history"


async def chat(client: httpx.AsyncClient, tenant: TenantKey, message: str, **extra) -> dict:
    response = await client.post(CHAT, json={"tenantId": tenant.tenant_id, "message": message, **extra},
                                 headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {name: data for _, name, data in parse_sse(response.text)}


def assert_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["detail"] and body["error"]["code"]
    return body


async def test_history_lists_chats_newest_activity_first_with_counts(live_client) -> None:
    client, tenant_key = live_client, await register_tenant(live_client, "hist")
    await add_document(client, tenant_key, "handbook.txt", HANDBOOK)
    first = (await chat(client, tenant_key, "When does the warehouse open?"))["start"]["chatId"]
    second = (await chat(client, tenant_key, "What must visitors wear?"))["start"]["chatId"]
    listed = (await client.get(HISTORY, params={"tenantId": tenant_key.tenant_id}, headers=tenant_key.headers)).json()
    assert [c["chatId"] for c in listed["data"]] == [second, first]
    assert listed["pagination"] == {"limit": 20, "offset": 0, "total": 2, "hasMore": False}
    # continuing the older chat moves it to the top; its earlier turns are kept
    continued = await chat(client, tenant_key, "Who inspects the forklifts?", chatId=first)
    assert continued["start"]["chatId"] == first
    listed = (await client.get(HISTORY, headers=tenant_key.headers)).json()["data"]
    assert [c["chatId"] for c in listed] == [first, second]
    top = listed[0]
    assert top["messageCount"] == 4 and top["title"] == "When does the warehouse open?"
    assert top["lastMessage"].startswith("Forklifts must be inspected")
    assert set(top) == {"chatId", "title", "accountId", "messageCount", "createdAt", "updatedAt", "lastMessage"}
    page = (await client.get(HISTORY, params={"limit": 1, "offset": 1}, headers=tenant_key.headers)).json()
    assert [c["chatId"] for c in page["data"]] == [second] and page["pagination"]["hasMore"] is False


async def test_one_chat_has_its_messages_with_citations(live_client) -> None:
    client, tenant_key = live_client, await register_tenant(live_client, "hist")
    await add_document(client, tenant_key, "handbook.txt", HANDBOOK)
    events = await chat(client, tenant_key, "When does the warehouse open?")
    chat_id = events["start"]["chatId"]
    detail = (await client.get(f"{HISTORY}/{chat_id}", headers=tenant_key.headers)).json()["data"]
    user, assistant = detail["messages"]
    assert user["role"] == "user" and user["content"] == "When does the warehouse open?"
    assert assistant["role"] == "assistant" and assistant["status"] == "complete"
    assert assistant["messageId"] == events["start"]["messageId"]
    assert assistant["citations"] == events["done"]["citations"] and assistant["citations"]
    assert assistant["usage"] == events["done"]["usage"] and assistant["sources"] == events["sources"]["items"]
    assert "7 am" in assistant["content"]


async def test_delete_removes_every_message_and_follows_the_contract(client, tenant_key, other_tenant_key) -> None:
    chat_id = (await chat(client, tenant_key, "hello"))["start"]["chatId"]
    assert_error(await client.delete(f"{HISTORY}/{chat_id}", headers=other_tenant_key.headers), 403)
    assert_error(await client.get(f"{HISTORY}/{chat_id}", headers=other_tenant_key.headers), 403)
    assert_error(await client.delete(f"{HISTORY}/{uuid.uuid4()}", headers=tenant_key.headers), 404)
    response = await client.delete(f"{HISTORY}/{chat_id}", headers=tenant_key.headers)
    assert response.status_code == 200 and response.json() == {"success": True,
                                                               "data": {"chatId": chat_id, "deleted": True}}
    assert_error(await client.get(f"{HISTORY}/{chat_id}", headers=tenant_key.headers), 404)
    async with client.app.state.session_factory() as session:
        from sqlalchemy import text

        left = await session.scalar(text("SELECT count(*) FROM chat_messages WHERE chat_id = :c"), {"c": chat_id})
    assert left == 0


async def test_bad_input_is_refused_before_the_stream_opens(client, tenant_key, other_tenant_key) -> None:
    theirs = (await chat(client, other_tenant_key, "hello"))["start"]["chatId"]

    async def post(**body):
        return await client.post(CHAT, json={"tenantId": tenant_key.tenant_id, "message": "hi", **body},
                                 headers=tenant_key.headers)

    assert_error(await post(message=""), 400)
    assert_error(await post(message="   "), 400)
    assert_error(await post(message="x" * 8001), 400)
    assert_error(await post(tenantId=other_tenant_key.tenant_id), 403)
    assert_error(await post(tenantId="not-a-uuid"), 400)
    assert_error(await post(accountId=str(uuid.uuid4())), 404)
    assert_error(await post(chatId=str(uuid.uuid4())), 404)
    assert_error(await post(chatId=theirs), 403)
    assert_error(await post(unknownField=1), 400)
    # nothing of the refused calls was stored
    listed = (await client.get(HISTORY, headers=tenant_key.headers)).json()
    assert listed["data"] == []


async def test_files_that_are_not_the_tenants_are_404(client, tenant_key) -> None:
    missing = str(uuid.uuid4())
    response = await client.post(CHAT, json={"tenantId": tenant_key.tenant_id, "message": "hi", "files": [missing]},
                                 headers=tenant_key.headers)
    assert missing in assert_error(response, 404)["error"]["message"]


async def test_scopes_guard_each_route(client, tenant_key) -> None:
    response = await client.post(f"/api/v1/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers,
                                 json={"name": "reader", "scopes": ["chat:read"]})
    reader = TenantKey(tenant_key.tenant_id, response.json()["data"]["apiKey"])
    assert_error(await client.post(CHAT, json={"tenantId": reader.tenant_id, "message": "hi"},
                                   headers=reader.headers), 403)
    assert (await client.get(HISTORY, headers=reader.headers)).status_code == 200
    chat_id = (await chat(client, tenant_key, "hello"))["start"]["chatId"]
    assert_error(await client.delete(f"{HISTORY}/{chat_id}", headers=reader.headers), 403)


async def test_history_never_shows_another_tenants_chats(client, tenant_key, other_tenant_key) -> None:
    await chat(client, other_tenant_key, "their secret question")
    mine = (await chat(client, tenant_key, "my question"))["start"]["chatId"]
    listed = (await client.get(HISTORY, headers=tenant_key.headers)).json()["data"]
    assert [c["chatId"] for c in listed] == [mine]
    assert_error(await client.get(HISTORY, params={"tenantId": other_tenant_key.tenant_id},
                                  headers=tenant_key.headers), 403)


async def test_documents_of_another_tenant_are_never_sources(live_client) -> None:
    client = live_client
    tenant_key, other_tenant_key = await register_tenant(client, "iso"), await register_tenant(client, "iso-other")
    await add_document(client, other_tenant_key, "handbook.txt", HANDBOOK)
    events = await chat(client, tenant_key, "When does the warehouse open?")
    assert events["sources"]["items"] == [] and "citation" not in events


async def _member_key(client: httpx.AsyncClient, admin: TenantKey) -> tuple[str, TenantKey]:
    """A member account of `admin`'s tenant and a key bound to it (capped to the member role)."""
    base = f"/api/v1/tenants/{admin.tenant_id}"
    response = await client.post(f"{base}/accounts", headers=admin.headers,
                                 json={"email": f"{uuid.uuid4().hex[:8]}@example.com", "name": "Ada", "role": "member"})
    assert response.status_code == 201, response.text
    account_id = response.json()["data"]["id"]
    response = await client.post(f"{base}/api-keys", headers=admin.headers,
                                 json={"name": "member", "scopes": ["chat:read", "chat:write", "chat:delete"],
                                       "accountId": account_id})
    assert response.status_code == 201, response.text
    return account_id, TenantKey(admin.tenant_id, response.json()["data"]["apiKey"])


async def test_an_account_key_never_sees_or_touches_another_accounts_chats(client, tenant_key) -> None:
    alice_id, alice = await _member_key(client, tenant_key)
    bob_id, bob = await _member_key(client, tenant_key)
    theirs = (await chat(client, alice, "alice's private question"))["start"]["chatId"]
    mine = (await chat(client, bob, "bob's question"))["start"]["chatId"]
    listed = (await client.get(HISTORY, headers=bob.headers)).json()
    assert [c["chatId"] for c in listed["data"]] == [mine] and listed["pagination"]["total"] == 1
    assert listed["data"][0]["accountId"] == bob_id
    # asking for the other account's listing is refused, not widened
    assert_error(await client.get(HISTORY, params={"accountId": alice_id}, headers=bob.headers), 400)
    # read, continue, delete: all refused, and nothing of alice's chat changed
    assert_error(await client.get(f"{HISTORY}/{theirs}", headers=bob.headers), 403)
    assert_error(await client.post(CHAT, json={"tenantId": bob.tenant_id, "message": "more", "chatId": theirs},
                                   headers=bob.headers), 403)
    assert_error(await client.delete(f"{HISTORY}/{theirs}", headers=bob.headers), 403)
    detail = (await client.get(f"{HISTORY}/{theirs}", headers=alice.headers)).json()["data"]
    assert detail["messageCount"] == 2 and detail["accountId"] == alice_id
    # the tenant's admin key sees both accounts' chats
    everyone = (await client.get(HISTORY, headers=tenant_key.headers)).json()["data"]
    assert {c["chatId"] for c in everyone} == {theirs, mine}


async def test_an_account_key_of_another_tenant_never_reaches_this_tenants_chats(client, tenant_key,
                                                                                 other_tenant_key) -> None:
    _, alice = await _member_key(client, tenant_key)
    _, mallory = await _member_key(client, other_tenant_key)
    theirs = (await chat(client, alice, "alice's private question"))["start"]["chatId"]
    listed = (await client.get(HISTORY, headers=mallory.headers)).json()
    assert listed["data"] == [] and listed["pagination"]["total"] == 0
    assert_error(await client.get(HISTORY, params={"tenantId": tenant_key.tenant_id}, headers=mallory.headers), 403)
    assert_error(await client.get(f"{HISTORY}/{theirs}", headers=mallory.headers), 403)
    assert_error(await client.post(CHAT, json={"tenantId": mallory.tenant_id, "message": "more", "chatId": theirs},
                                   headers=mallory.headers), 403)
    assert_error(await client.delete(f"{HISTORY}/{theirs}", headers=mallory.headers), 403)
    assert (await client.get(f"{HISTORY}/{theirs}", headers=alice.headers)).json()["data"]["messageCount"] == 2


async def test_an_account_key_naming_another_accounts_file_is_404_before_the_stream(client, tenant_key) -> None:
    from tests.integration.documents.conftest import upload

    alice_id, alice = await _member_key(client, tenant_key)
    bob_id, _ = await _member_key(client, tenant_key)
    mine = (await upload(client, tenant_key, alice_id, "alice.txt", b"The lamp is lit at dusk.\n")).json()["data"]["id"]
    theirs = (await upload(client, tenant_key, bob_id, "bob.txt", b"The cat is fed at noon.\n")).json()["data"]["id"]

    async def post(key: TenantKey, files: list[str]) -> httpx.Response:
        return await client.post(CHAT, json={"tenantId": key.tenant_id, "message": "when?", "files": files},
                                 headers={**key.headers, "Accept": "text/event-stream"})

    # bob's file, alone or beside alice's own: a plain 404 naming only bob's, no stream opened
    for files in ([theirs], [mine, theirs]):
        response = await post(alice, files)
        body = assert_error(response, 404)
        assert response.headers["content-type"].startswith("application/json")
        assert body["error"]["code"] == "NOT_FOUND"
        assert theirs in body["error"]["message"] and mine not in body["error"]["message"]
    # nothing was stored for the refused turns
    assert (await client.get(HISTORY, headers=alice.headers)).json()["pagination"]["total"] == 0
    # her own file streams; the tenant's admin key may name bob's
    response = await post(alice, [mine])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert [n for _, n, _ in parse_sse(response.text)][-1] == "done"
    response = await post(tenant_key, [theirs])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
