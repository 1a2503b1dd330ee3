"""A member's key sees and acts on its own account's files only: another account's file is a 404
(or a per-file "not found"), and retrieval never returns its chunks. The tenant's key sees all."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from core.settings import Settings
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.documents.conftest import create_account, upload
from tests.integration.documents.test_store_sync import _run


async def _member_key(client: httpx.AsyncClient, owner: TenantKey, account_id: str) -> TenantKey:
    response = await client.post(f"/api/v1/tenants/{owner.tenant_id}/api-keys", headers=owner.headers,
                                 json={"name": "member", "scopes": ["tenant:read", "tenant:write"],
                                       "accountId": account_id})
    assert response.status_code == 201, response.text
    return TenantKey(owner.tenant_id, response.json()["data"]["apiKey"])


def _not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "NOT_FOUND"


async def test_a_member_key_reaches_only_its_own_accounts_files(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine, app_settings: Settings
) -> None:
    client = live_client
    owner = await register_tenant(client, "scope")
    alice, bob = await create_account(client, owner), await create_account(client, owner)
    a_file = (await upload(client, owner, alice, "alice.md", b"# Alice\n\nThe lighthouse keeper lights the lamp.\n")
              ).json()["data"]["id"]
    b_file = (await upload(client, owner, bob, "bob.md", b"# Bob\n\nThe lighthouse keeper feeds the cat.\n")
              ).json()["data"]["id"]
    base = f"/api/v1/tenants/{owner.tenant_id}"
    queued = await client.post(f"{base}/store/sync", headers=owner.headers, json={"assetIds": [a_file, b_file]})
    _run(sync_engine, app_settings, queued.json()["data"]["operationId"])
    member = await _member_key(client, owner, alice)
    h = member.headers

    # the vault: bob's account and files answer 404, alice's work
    _not_found(await client.get(f"{base}/accounts/{bob}/files", headers=h))
    _not_found(await client.get(f"{base}/accounts/{bob}/files/{b_file}", headers=h))
    _not_found(await client.get(f"{base}/accounts/{bob}/files/{b_file}/content", headers=h))
    _not_found(await client.delete(f"{base}/accounts/{bob}/files/{b_file}", headers=h))
    _not_found(await client.get(f"{base}/accounts/{alice}/files/{b_file}", headers=h))
    _not_found(await upload(client, member, bob, "x.txt", b"not for bob\n"))
    assert (await client.get(f"{base}/accounts/{alice}/files/{a_file}", headers=h)).json()["data"]["title"] == "Alice"
    content = await client.get(f"{base}/accounts/{alice}/files/{a_file}/content", headers=h)
    assert content.status_code == 200 and b"lamp" in content.content

    # the store: details, sync, refresh, actions and audit show or touch alice's files only
    details = (await client.get(f"{base}/store", headers=h)).json()["data"]
    assert [f["id"] for f in details["files"]] == [a_file] and details["counts"]["total"] == 1
    _not_found(await client.post(f"{base}/store/sync", headers=h, json={"assetIds": [a_file, b_file]}))
    _not_found(await client.post(f"{base}/store/refresh", headers=h, json={"assetIds": [b_file]}))
    assert (await client.post(f"{base}/store/refresh", headers=h, json={})).json()["data"]["checked"] == 1
    acted = (await client.post(f"{base}/store/files/actions", headers=h,
                               json={"action": "exclude", "fileIds": [b_file]})).json()["data"]["results"]
    assert acted == [{"fileId": b_file, "ok": False, "error": "not found"}]
    audit = (await client.get(f"{base}/store/audit", headers=h)).json()
    assert {e["assetId"] for e in audit["data"]} == {a_file}
    assert (await client.get(f"{base}/store/audit?assetId={b_file}", headers=h)).json()["data"] == []

    # retrieval never cites bob's chunks, even when asked for them
    async def cited(headers: dict, **extra) -> set[str]:
        response = await client.post(f"{base}/store/query", headers=headers,
                                     json={"query": "lighthouse keeper", **extra})
        assert response.status_code == 200, response.text
        return {r["fileId"] for r in response.json()["data"]["results"]}

    assert await cited(h) == {a_file}
    assert await cited(h, fileIds=[b_file]) == set()
    _not_found(await client.post(f"{base}/store/query", headers=h,
                                 json={"query": "lighthouse keeper", "accountId": bob}))
    # the tenant's own key sees both; bob's file is untouched
    assert await cited(owner.headers) == {a_file, b_file}
    listed = (await client.get(f"{base}/accounts/{bob}/files", headers=owner.headers)).json()["data"]
    assert [(f["id"], f["excluded"]) for f in listed] == [(b_file, False)]


async def test_another_tenants_key_gets_403_on_every_store_route(
    client: httpx.AsyncClient, tenant_key: TenantKey, other_tenant_key: TenantKey
) -> None:
    account = await create_account(client, tenant_key)
    file_id = (await upload(client, tenant_key, account, "a.txt", b"harbour words\n")).json()["data"]["id"]
    base = f"/api/v1/tenants/{tenant_key.tenant_id}"
    h = other_tenant_key.headers
    for response in [
        await client.get(f"{base}/accounts/{account}/files/{file_id}", headers=h),
        await client.get(f"{base}/accounts/{account}/files/{file_id}/content", headers=h),
        await client.get(f"{base}/store", headers=h),
        await client.get(f"{base}/store/progress", headers=h),
        await client.get(f"{base}/store/audit", headers=h),
        await client.post(f"{base}/store/sync", headers=h, json={"assetIds": [file_id]}),
        await client.post(f"{base}/store/refresh", headers=h, json={}),
        await client.post(f"{base}/store/files/actions", headers=h, json={"action": "exclude", "fileIds": [file_id]}),
        await client.post(f"{base}/store/query", headers=h, json={"query": "harbour"}),
    ]:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "FORBIDDEN"
    # on its own tenant's path the file is unknown
    theirs = f"/api/v1/tenants/{other_tenant_key.tenant_id}"
    _not_found(await client.post(f"{theirs}/store/sync", headers=h, json={"assetIds": [file_id]}))


async def test_refresh_of_a_changed_file_rereads_pages_and_title_and_replaces_its_chunks(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine, app_settings: Settings
) -> None:
    from tests.integration.documents.conftest import replace_stored_bytes
    from tests.integration.documents.samples import make_pdf

    client = live_client
    owner = await register_tenant(client, "refresh")
    account = await create_account(client, owner)
    base = f"/api/v1/tenants/{owner.tenant_id}"
    doc = (await upload(client, owner, account, "rules.md", b"# Harbour rules\n\nMoor at pontoon C.\n")).json()["data"]
    pdf = (await upload(client, owner, account, "manual.pdf", make_pdf(["Impeller every 500 hours."]))).json()["data"]
    assert (doc["title"], pdf["pages"]) == ("Harbour rules", 1)
    op = (await client.post(f"{base}/store/sync", headers=owner.headers,
                            json={"assetIds": [doc["id"], pdf["id"]]})).json()["data"]["operationId"]
    _run(sync_engine, app_settings, op)
    await replace_stored_bytes(client, app_settings, doc["id"], b"# Canal rules\n\nLocks close at dusk.\n")
    await replace_stored_bytes(client, app_settings, pdf["id"], make_pdf(["Grease the winch.", "Check the anchor."]))

    refreshed = (await client.post(f"{base}/store/refresh", headers=owner.headers, json={})).json()["data"]
    assert (refreshed["checked"], refreshed["changed"]) == (2, 2) and refreshed["operationId"]
    files = f"{base}/accounts/{account}/files"
    assert (await client.get(f"{files}/{doc['id']}", headers=owner.headers)).json()["data"]["title"] == "Canal rules"
    assert (await client.get(f"{files}/{pdf['id']}", headers=owner.headers)).json()["data"]["pages"] == 2
    events = (await client.get(f"{base}/store/audit?assetId={doc['id']}", headers=owner.headers)).json()["data"]
    refresh_event = next(e for e in events if e["event"] == "file_refreshed")
    assert refresh_event["details"]["title"] == "Canal rules"
    assert refresh_event["details"]["previousSha256"] == doc["sha256"]

    _run(sync_engine, app_settings, refreshed["operationId"])
    query = f"{base}/store/query"
    old = (await client.post(query, headers=owner.headers, json={"query": "pontoon"})).json()["data"]["results"]
    new = (await client.post(query, headers=owner.headers, json={"query": "anchor"})).json()["data"]["results"]
    assert [r for r in old if r["fileId"] == doc["id"] and "pontoon" in r["text"]] == []
    assert [(r["fileId"], r["page"]) for r in new if "anchor" in r["text"].lower()] == [(pdf["id"], 2)]
