"""Accounts through the API: list, PATCH, PUT, and roles that cap the account's keys on every request."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.documents.conftest import create_account


async def _key_for(client: httpx.AsyncClient, owner: TenantKey, account_id: str, scopes: list[str] | None = None
                   ) -> httpx.Response:
    body: dict = {"name": "person", "accountId": account_id}
    if scopes is not None:
        body["scopes"] = scopes
    return await client.post(f"/api/v1/tenants/{owner.tenant_id}/api-keys", headers=owner.headers, json=body)


def _headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_list_patch_and_put_accounts(live_client: httpx.AsyncClient) -> None:
    client = live_client  # accounts made in separate transactions, so they have distinct creation times
    tenant_key = await register_tenant(client, "accounts")
    base = f"/api/v1/tenants/{tenant_key.tenant_id}/accounts"
    first = await create_account(client, tenant_key, "member")
    second = await create_account(client, tenant_key, "viewer")
    listed = await client.get(f"{base}?limit=2&offset=1", headers=tenant_key.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["pagination"] == {"limit": 2, "offset": 1, "total": 3}  # the admin account of register too
    assert [a["id"] for a in body["data"]] == [first, second]

    patched = await client.patch(f"{base}/{first}", headers=tenant_key.headers, json={"role": "viewer", "name": "Bo"})
    assert patched.status_code == 200
    data = patched.json()["data"]
    assert (data["role"], data["name"], data["disabled"]) == ("viewer", "Bo", False)
    assert data["email"]  # untouched

    put = await client.put(f"{base}/{first}", headers=tenant_key.headers,
                           json={"email": "bo@example.com", "role": "admin"})
    assert put.status_code == 200
    data = put.json()["data"]
    assert (data["email"], data["role"], data["name"], data["disabled"]) == ("bo@example.com", "admin", None, False)
    assert (await client.get(f"{base}/{first}", headers=tenant_key.headers)).json()["data"]["role"] == "admin"

    for method, payload, status in [
        ("PATCH", {"role": "owner"}, 400), ("PATCH", {"email": "not-an-email"}, 400),
        ("PATCH", {"disabled": "yes"}, 400), ("PATCH", {"colour": "red"}, 400),
        ("PUT", {"role": "member"}, 400),  # email is required
    ]:
        response = await client.request(method, f"{base}/{second}", headers=tenant_key.headers, json=payload)
        assert response.status_code == status, (payload, response.text)
        assert response.json()["success"] is False
    taken = await client.patch(f"{base}/{second}", headers=tenant_key.headers, json={"email": "bo@example.com"})
    assert taken.status_code == 409


async def test_accounts_never_cross_tenants(client: httpx.AsyncClient, tenant_key: TenantKey,
                                            other_tenant_key: TenantKey) -> None:
    account = await create_account(client, tenant_key)
    base = f"/api/v1/tenants/{tenant_key.tenant_id}/accounts"
    assert (await client.get(base, headers=other_tenant_key.headers)).status_code == 403
    assert (await client.patch(f"{base}/{account}", headers=other_tenant_key.headers,
                               json={"role": "admin"})).status_code == 403
    theirs = f"/api/v1/tenants/{other_tenant_key.tenant_id}/accounts/{account}"
    assert (await client.patch(theirs, headers=other_tenant_key.headers, json={"role": "admin"})).status_code == 404
    assert (await client.put(theirs, headers=other_tenant_key.headers,
                             json={"email": "x@example.com", "role": "admin"})).status_code == 404
    key = await _key_for(client, other_tenant_key, account)
    assert key.status_code == 404  # a key cannot belong to another tenant's account


async def test_roles_cap_keys_and_changes_apply_at_once(live_client: httpx.AsyncClient) -> None:
    owner = await register_tenant(live_client, "roles")
    account = await create_account(live_client, owner, "viewer")
    refused = await _key_for(live_client, owner, account, ["tenant:write"])
    assert refused.status_code == 422 and "tenant:write" in refused.json()["error"]["message"]
    issued = await _key_for(live_client, owner, account)
    assert issued.status_code == 201, issued.text
    assert issued.json()["data"]["accountId"] == account
    assert sorted(issued.json()["data"]["scopes"]) == ["chat:read", "tenant:read"]
    viewer = _headers(issued.json()["data"]["apiKey"])
    base = f"/api/v1/tenants/{owner.tenant_id}"
    assert (await live_client.get(f"{base}/store", headers=viewer)).status_code == 200
    assert (await live_client.post(f"{base}/store/sync", headers=viewer, json={"assetIds": []})).status_code == 403

    # an admin promotes the account to member: the key it already has is still capped by its own scopes,
    # so a member key with write scopes is made for it, and demotion caps that key at once
    promoted = await live_client.patch(f"{base}/accounts/{account}", headers=owner.headers, json={"role": "member"})
    assert promoted.status_code == 200
    member_key = await _key_for(live_client, owner, account, ["tenant:read", "tenant:write"])
    member = _headers(member_key.json()["data"]["apiKey"])
    write = await live_client.post(f"{base}/store/sync", headers=member, json={"assetIds": []})
    assert write.status_code == 400  # past the guard: the body is what is wrong
    assert (await live_client.get(f"{base}/api-keys", headers=member)).status_code == 403  # no key management
    assert (await live_client.patch(f"{base}/accounts/{account}", headers=member,
                                    json={"role": "admin"})).status_code == 403

    demoted = await live_client.patch(f"{base}/accounts/{account}", headers=owner.headers, json={"role": "viewer"})
    assert demoted.status_code == 200
    assert (await live_client.post(f"{base}/store/sync", headers=member, json={"assetIds": []})).status_code == 403
    assert (await live_client.get(f"{base}/store", headers=member)).status_code == 200

    disabled = await live_client.patch(f"{base}/accounts/{account}", headers=owner.headers, json={"disabled": True})
    assert disabled.json()["data"]["disabled"] is True
    blocked = await live_client.get(f"{base}/store", headers=member)
    assert blocked.status_code == 401 and "disabled" in blocked.json()["error"]["message"]


async def test_a_role_change_in_another_process_applies_within_the_cache_window(
    live_client: httpx.AsyncClient, async_engine
) -> None:
    """Another API process changes the role straight in PostgreSQL: this process's cached key sees it
    once its cache entry (at most 5 s) expires; the test expires it instead of sleeping."""
    from api.auth import middleware

    owner = await register_tenant(live_client, "roles-xproc")
    account = await create_account(live_client, owner, "member")
    member_key = await _key_for(live_client, owner, account, ["tenant:read", "tenant:write"])
    member = _headers(member_key.json()["data"]["apiKey"])
    base = f"/api/v1/tenants/{owner.tenant_id}"
    assert (await live_client.post(f"{base}/store/sync", headers=member, json={"assetIds": []})).status_code == 400
    async with async_engine.begin() as conn:
        await conn.execute(sa.text("UPDATE accounts SET role = 'viewer' WHERE id = :a"), {"a": account})
    assert middleware.CACHE_SECONDS <= 5
    for digest, (principal, expires, _) in list(middleware._key_cache.items()):
        middleware._key_cache[digest] = (principal, expires, 0.0)  # the window has passed
    assert (await live_client.post(f"{base}/store/sync", headers=member, json={"assetIds": []})).status_code == 403


async def test_a_token_minted_from_an_account_key_follows_the_account(live_client: httpx.AsyncClient) -> None:
    owner = await register_tenant(live_client, "roles-jwt")
    account = await create_account(live_client, owner, "member")
    key = (await _key_for(live_client, owner, account, ["tenant:read", "tenant:write"])).json()["data"]["apiKey"]
    minted = await live_client.post("/api/v1/auth/token", headers=_headers(key))
    assert minted.status_code == 201, minted.text
    token = _headers(minted.json()["data"]["token"])
    base = f"/api/v1/tenants/{owner.tenant_id}"
    assert (await live_client.post(f"{base}/store/sync", headers=token, json={"assetIds": []})).status_code == 400
    await live_client.patch(f"{base}/accounts/{account}", headers=owner.headers, json={"role": "viewer"})
    assert (await live_client.post(f"{base}/store/sync", headers=token, json={"assetIds": []})).status_code == 403
    await live_client.patch(f"{base}/accounts/{account}", headers=owner.headers, json={"disabled": True})
    assert (await live_client.get(f"{base}/store", headers=token)).status_code == 401
