"""`/collections`: what the portal's list and search pages are built from, for one tenant only."""

from __future__ import annotations

import httpx
import pytest_asyncio

from tests.integration.conftest import TenantKey, register_tenant

ROWS = [{"name": f"Bolt {i}", "price": i * 0.5, "in_stock": i % 2 == 0, "color": ("red", "blue")[i % 2],
         "sku": f"SKU-{i:05d}"} for i in range(20)]


@pytest_asyncio.fixture
async def client(live_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Ingestion writes with COPY on its own connection: these tests run on the committing app."""
    return live_client


@pytest_asyncio.fixture
async def tenant_key(client: httpx.AsyncClient) -> TenantKey:
    return await register_tenant(client, "browse")


@pytest_asyncio.fixture
async def other_tenant_key(client: httpx.AsyncClient) -> TenantKey:
    return await register_tenant(client, "browse-other")


async def _ingest(client: httpx.AsyncClient, key: TenantKey, collection: str = "hardware") -> None:
    answer = await client.post(f"/api/v1/ingest/{collection}?entity_type=product", json=ROWS, headers=key.headers)
    assert answer.status_code == 200, answer.text


async def test_collections_list_counts_and_field_catalog(client, tenant_key):
    await _ingest(client, tenant_key)
    listed = (await client.get("/api/v1/collections", headers=tenant_key.headers)).json()
    assert listed["success"] is True
    [hardware] = listed["data"]
    assert hardware["name"] == "hardware" and hardware["recordCount"] == 20
    assert hardware["activeGeneration"] == 1 and hardware["stagingGeneration"] is None

    detail = (await client.get("/api/v1/collections/hardware", headers=tenant_key.headers)).json()["data"]
    fields = {f["name"]: f for f in detail["fields"]}
    assert fields["price"]["kinds"] == ["number"] and fields["price"]["values"] is None
    assert fields["in_stock"]["kinds"] == ["boolean"]
    assert fields["color"]["values"] == ["blue", "red"]  # few values: a pick list
    assert fields["sku"]["values"] is None  # twenty distinct values: too many to pick from


async def test_record_detail_and_another_tenants_ids(client, tenant_key, other_tenant_key):
    await _ingest(client, tenant_key)
    hit = (await client.get("/api/v1/search/hardware?q=SKU-00003", headers=tenant_key.headers)).json()["results"][0]
    record = await client.get(f"/api/v1/collections/hardware/records/{hit['record_id']}", headers=tenant_key.headers)
    assert record.status_code == 200
    data = record.json()["data"]
    assert data["name"] == "Bolt 3" and data["collectionData"]["sku"] == "SKU-00003"
    assert data["embeddingStatus"] == "pending"

    for path in ("/api/v1/collections/hardware", f"/api/v1/collections/hardware/records/{hit['record_id']}"):
        answer = await client.get(path, headers=other_tenant_key.headers)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "NOT_FOUND"
    assert (await client.get("/api/v1/collections", headers=other_tenant_key.headers)).json()["data"] == []


async def test_session_cookie_reads_but_changes_only_with_the_csrf_header(client, tenant_key):
    token = (await client.post("/api/v1/auth/token", headers=tenant_key.headers)).json()["data"]["token"]
    started = await client.post("/portal/session", json={"token": token})
    assert started.status_code == 200
    csrf = started.json()["data"]["csrfToken"]
    set_cookie = started.headers.get_list("set-cookie")
    session = next(c for c in set_cookie if c.startswith("kariz_session="))
    assert "HttpOnly" in session and "samesite=strict" in session.lower() and "Secure" not in session
    assert token not in started.text  # the body carries the claims, never the token
    cookies = {"kariz_session": token}

    assert (await client.get("/api/v1/collections", cookies=cookies)).status_code == 200
    refused = await client.post("/api/v1/ingest/notes?entity_type=note", json=[{"name": "n"}], cookies=cookies)
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    wrong = await client.post("/api/v1/ingest/notes?entity_type=note", json=[{"name": "n"}], cookies=cookies,
                              headers={"X-CSRF-Token": csrf[:-2] + "xx"})
    assert wrong.status_code == 403
    ok = await client.post("/api/v1/ingest/notes?entity_type=note", json=[{"name": "n"}], cookies=cookies,
                           headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text

    over_https = await client.post("/portal/session", json={"token": token}, headers={"x-forwarded-proto": "https"})
    assert all("Secure" in c for c in over_https.headers.get_list("set-cookie"))
    cross_site = await client.post("/portal/session", json={"token": token}, headers={"sec-fetch-site": "cross-site"})
    assert cross_site.status_code == 403
    assert (await client.post("/portal/session", json={"token": tenant_key.key})).status_code == 400
