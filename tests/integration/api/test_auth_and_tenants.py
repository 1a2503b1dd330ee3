"""Auth, scopes, errors and tenant isolation on the tenant and key routes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from core.db.models import ApiKey
from core.security.api_keys import hash_key
from tests.integration.conftest import TenantKey

V1 = "/api/v1"


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["detail"] == body["error"]["message"]


async def test_register_returns_a_working_key_once(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    assert tenant_key.key.startswith("sk_live_")
    me = await client.get(f"{V1}/tenants", headers=tenant_key.headers)
    assert me.status_code == 200
    assert me.json()["data"]["id"] == tenant_key.tenant_id
    keys = await client.get(f"{V1}/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers)
    listed = keys.json()["data"]
    assert len(listed) == 1 and "apiKey" not in listed[0]
    assert tenant_key.key not in keys.text
    assert listed[0]["last_used_at"] is not None


async def test_key_is_stored_only_as_a_hash(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    listed = await client.get(f"{V1}/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers)
    assert listed.json()["data"][0]["prefix"] == tenant_key.key[:12]
    async with client.app.state.session_factory() as session:
        row = (await session.execute(sa.select(ApiKey).where(ApiKey.tenant_id == uuid.UUID(tenant_key.tenant_id)))).scalar_one()
    assert row.key_hash == hash_key(tenant_key.key)
    stored = " ".join(str(v) for v in (row.name, row.prefix, row.key_hash, row.scopes))
    assert tenant_key.key not in stored and tenant_key.key[12:] not in stored


async def test_both_header_styles_authenticate(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    bearer = await client.get(f"{V1}/tenants", headers={"Authorization": f"Bearer {tenant_key.key}"})
    x_api = await client.get(f"{V1}/tenants", headers={"x-api-key": tenant_key.key})
    assert bearer.status_code == x_api.status_code == 200


async def test_missing_unknown_and_malformed_keys_are_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(f"{V1}/tenants"), 401, "UNAUTHORIZED")
    assert_error(await client.get(f"{V1}/tenants", headers={"x-api-key": "sk_live_" + "x" * 40}), 401, "UNAUTHORIZED")
    assert_error(await client.get(f"{V1}/tenants", headers={"x-api-key": "nonsense"}), 401, "UNAUTHORIZED")
    assert_error(await client.get(f"{V1}/tenants", headers={"Authorization": "Basic abc"}), 401, "UNAUTHORIZED")
    assert_error(await client.get(f"{V1}/tenants", headers={"Authorization": "Bearer not.a.jwt"}), 401, "UNAUTHORIZED")


async def test_revoked_key_stops_working_at_once(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    created = await client.post(f"{V1}/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers,
                                json={"name": "ci", "scopes": ["tenant:read"]})
    assert created.status_code == 201
    new = created.json()["data"]
    headers = {"x-api-key": new["apiKey"]}
    assert (await client.get(f"{V1}/tenants", headers=headers)).status_code == 200
    revoked = await client.delete(f"{V1}/tenants/{tenant_key.tenant_id}/api-keys/{new['id']}", headers=tenant_key.headers)
    assert revoked.status_code == 200 and revoked.json()["data"]["revoked"] is True
    assert_error(await client.get(f"{V1}/tenants", headers=headers), 401, "UNAUTHORIZED")


async def test_expired_key_is_401(client: httpx.AsyncClient, tenant_key: TenantKey, sync_engine: sa.Engine) -> None:
    created = await client.post(
        f"{V1}/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers,
        json={"name": "short", "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
    )
    new = created.json()["data"]
    assert new["expires_at"] is not None
    # move the expiry into the past through the app's own transaction
    async with client.app.state.session_factory() as session:
        await session.execute(sa.update(ApiKey).where(ApiKey.key_hash == hash_key(new["apiKey"]))
                              .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await session.commit()
    assert_error(await client.get(f"{V1}/tenants", headers={"x-api-key": new["apiKey"]}), 401, "UNAUTHORIZED")
    past = await client.post(f"{V1}/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers,
                             json={"name": "past", "expires_at": "2020-01-01T00:00:00Z"})
    assert_error(past, 400, "BAD_REQUEST")


async def test_scopes_are_enforced_with_403(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    created = await client.post(f"{V1}/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers,
                                json={"name": "reader", "scopes": ["tenant:read"]})
    reader = {"x-api-key": created.json()["data"]["apiKey"]}
    assert (await client.get(f"{V1}/tenants", headers=reader)).status_code == 200
    assert_error(await client.get(f"{V1}/tenants/{tenant_key.tenant_id}/api-keys", headers=reader), 403, "FORBIDDEN")
    assert_error(await client.get(f"{V1}/admin/tenants", headers=reader), 403, "FORBIDDEN")
    assert_error(await client.post(f"{V1}/tenants", headers=tenant_key.headers, json={"name": "x"}), 403, "FORBIDDEN")
    escalate = await client.post(f"{V1}/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers,
                                 json={"name": "evil", "scopes": ["system:admin"]})
    assert_error(escalate, 403, "FORBIDDEN")
    unknown = await client.post(f"{V1}/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers,
                                json={"name": "odd", "scopes": ["root"]})
    assert_error(unknown, 400, "BAD_REQUEST")


async def test_tenant_isolation_on_every_id_route(
    client: httpx.AsyncClient, tenant_key: TenantKey, other_tenant_key: TenantKey
) -> None:
    mine, theirs = tenant_key, other_tenant_key
    assert_error(await client.get(f"{V1}/tenants/{theirs.tenant_id}", headers=mine.headers), 403, "FORBIDDEN")
    assert_error(await client.get(f"{V1}/tenants/{theirs.tenant_id}/api-keys", headers=mine.headers), 403, "FORBIDDEN")
    assert_error(await client.post(f"{V1}/tenants/{theirs.tenant_id}/api-keys", headers=mine.headers,
                                   json={"name": "steal"}), 403, "FORBIDDEN")
    their_keys = await client.get(f"{V1}/tenants/{theirs.tenant_id}/api-keys", headers=theirs.headers)
    their_key_id = their_keys.json()["data"][0]["id"]
    # revoking their key through my tenant path: not found, and their key still works
    assert_error(await client.delete(f"{V1}/tenants/{mine.tenant_id}/api-keys/{their_key_id}", headers=mine.headers),
                 404, "NOT_FOUND")
    assert (await client.get(f"{V1}/tenants", headers=theirs.headers)).status_code == 200
    account = await client.post(f"{V1}/tenants/{theirs.tenant_id}/accounts", headers=theirs.headers,
                                json={"email": "bob@other.example", "role": "viewer"})
    account_id = account.json()["data"]["id"]
    assert_error(await client.get(f"{V1}/tenants/{mine.tenant_id}/accounts/{account_id}", headers=mine.headers),
                 404, "NOT_FOUND")
    admin_view = await client.get(f"{V1}/admin/tenants", headers=mine.headers)
    assert [t["tenant_id"] for t in admin_view.json()] == [mine.tenant_id]


async def test_operator_sees_all_tenants_and_creates_tenants(
    client: httpx.AsyncClient, tenant_key: TenantKey, other_tenant_key: TenantKey, system_key: TenantKey
) -> None:
    operator = system_key
    listed = await client.get(f"{V1}/admin/tenants", headers=operator.headers)
    ids = {t["tenant_id"] for t in listed.json()}
    assert {tenant_key.tenant_id, other_tenant_key.tenant_id} <= ids
    created = await client.post(f"{V1}/tenants", headers=operator.headers, json={"name": "newco"})
    assert created.status_code == 201
    new_key = created.json()["data"]["apiKey"]
    assert (await client.get(f"{V1}/tenants", headers={"x-api-key": new_key})).status_code == 200
    duplicate = await client.post(f"{V1}/tenants", headers=operator.headers, json={"name": "newco"})
    assert_error(duplicate, 409, "CONFLICT")


async def test_bad_bodies_are_4xx_not_500(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    malformed = await client.post(f"{V1}/register", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(malformed, 400, "BAD_REQUEST")
    unknown_field = await client.post(f"{V1}/register", json={"name": "a", "email": "a@b.co", "admin": True})
    assert_error(unknown_field, 400, "BAD_REQUEST")
    wrong_type = await client.post(f"{V1}/register", json={"name": 5, "email": "a@b.co"})
    assert_error(wrong_type, 400, "BAD_REQUEST")
    bad_email = await client.post(f"{V1}/register", json={"name": "a", "email": "nope"})
    assert_error(bad_email, 422, "VALIDATION_ERROR")
    huge = await client.post(f"{V1}/register", content=b'{"name": "' + b"a" * (11 * 2**20) + b'"}',
                             headers={"content-type": "application/json"})
    assert_error(huge, 413, "PAYLOAD_TOO_LARGE")
    assert_error(await client.get(f"{V1}/no-such-route", headers=tenant_key.headers), 404, "NOT_FOUND")


async def test_portal_jwt_carries_the_keys_tenant_and_scopes(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    issued = await client.post(f"{V1}/auth/token", headers=tenant_key.headers)
    assert issued.status_code == 201
    token = issued.json()["data"]["token"]
    me = await client.get(f"{V1}/tenants", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["data"]["id"] == tenant_key.tenant_id
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert_error(await client.get(f"{V1}/tenants", headers={"Authorization": f"Bearer {tampered}"}), 401, "UNAUTHORIZED")


async def test_no_key_or_token_is_logged(client: httpx.AsyncClient, caplog) -> None:  # noqa: ANN001
    import logging

    caplog.set_level(logging.DEBUG)
    registered = await client.post(f"{V1}/register", json={"name": "loggy", "email": "l@example.com"})
    key = registered.json()["data"]["apiKey"]
    await client.get(f"{V1}/tenants", headers={"x-api-key": key})
    await client.get(f"{V1}/tenants", headers={"x-api-key": key[:-2] + "zz"})
    assert key not in caplog.text
