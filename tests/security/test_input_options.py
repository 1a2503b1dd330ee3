"""`OPTIONS` on any route answers 204 with `Allow` (or 405), with or without credentials, never 500."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import TenantKey

PATHS = [
    "/api/v1/usage",
    "/api/v1/admin/stats",
    "/api/v1/export/active",
    "/api/v1/connectors/00000000-0000-0000-0000-000000000001",
    "/api/v1/ingest/products/file",
    "/api/v1/portal/verticals/products/replace",
    "/api/v1/requests/00000000-0000-0000-0000-000000000001",
    "/api/v1/search/products",
]


@pytest.mark.parametrize("path", PATHS)
async def test_options_without_credentials_is_204_with_allow(client: httpx.AsyncClient, path: str) -> None:
    response = await client.options(path)
    assert response.status_code == 204, response.text
    assert response.headers.get("allow"), "the answer names the methods the route takes"
    assert "internal" not in response.text and "AuthMiddleware" not in response.text


async def test_options_with_a_key_is_204_and_not_counted(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    response = await client.options("/api/v1/usage", headers=tenant_key.headers)
    assert response.status_code == 204
    assert "GET" in response.headers["allow"]


async def test_options_does_not_open_the_route(client: httpx.AsyncClient) -> None:
    """Answering OPTIONS never runs the handler: the real method still needs credentials."""
    assert (await client.options("/api/v1/usage")).status_code == 204
    assert (await client.get("/api/v1/usage")).status_code == 401
