"""Helpers for the document tests: accounts through the API, uploads, and running a store operation."""

from __future__ import annotations

import uuid

import httpx

from tests.integration.conftest import TenantKey


async def create_account(client: httpx.AsyncClient, owner: TenantKey, role: str = "member") -> str:
    response = await client.post(
        f"/api/v1/tenants/{owner.tenant_id}/accounts", headers=owner.headers,
        json={"email": f"{uuid.uuid4().hex[:8]}@example.com", "name": "Ada", "role": role},
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


async def upload(client: httpx.AsyncClient, owner: TenantKey, account_id: str, name: str, data: bytes,
                 *, sync: bool = False) -> httpx.Response:
    return await client.post(
        f"/api/v1/tenants/{owner.tenant_id}/accounts/{account_id}/files" + ("?sync=true" if sync else ""),
        headers=owner.headers, files={"file": (name, data, "application/octet-stream")},
    )
