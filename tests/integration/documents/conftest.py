"""Helpers for the document tests: accounts through the API, uploads, and running a store operation."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa

from core.files import get_file_store
from core.settings import Settings
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


async def replace_stored_bytes(client: httpx.AsyncClient, settings: Settings, file_id: str, data: bytes) -> None:
    """Overwrite a file's bytes in the file store (its row is left as it was)."""
    async with client.app.state.session_factory() as session:
        key = (await session.execute(sa.text("SELECT storage_key FROM files WHERE id = :f"), {"f": file_id})).scalar_one()
    get_file_store(settings).put(key, data)
