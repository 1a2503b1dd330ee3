"""`GET /admin/stats`: exact counts after ingestion and embedding, scoped like `/admin/tenants`."""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.urls import libpq_url
from core.embeddings.factory import get_embedding_provider
from core.embeddings.pipeline import PipelineOptions, run_embedding_pipeline
from core.settings import Settings
from core.vectors.factory import get_vector_index
from tests.integration.conftest import TenantKey, register_tenant

V1 = "/api/v1"
ROWS = b"name,sku,price\n" + b"".join(f"Widget {i},WG-{i:04d}-X,{i}.5\n".encode() for i in range(6))


async def upload(client: httpx.AsyncClient, tenant: TenantKey, collection: str, content: bytes) -> dict:
    response = await client.post(
        f"{V1}/ingest/{collection}/file",
        params={"entity_type": "widget"},
        files={"file": ("w.csv", content, "text/csv")},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def stats(client: httpx.AsyncClient, tenant: TenantKey) -> dict:
    response = await client.get(f"{V1}/admin/stats", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_stats_follow_ingestion_embedding_and_status_changes(
    live_client: httpx.AsyncClient,
    async_engine: AsyncEngine,
    sync_engine: sa.Engine,
    app_settings: Settings,
    database_url: str,
) -> None:
    tenant = await register_tenant(live_client, "stats")
    assert await stats(live_client, tenant) == {
        "total_records": 0,
        "records_by_status": {"active": 0, "archived": 0, "draft": 0},
        "indexing_status": {"indexed": 0, "pending": 0, "processing": 0, "failed": 0},
        "queue_depth": 0,
        "counts_exact": True,
    }
    ingested = await upload(live_client, tenant, "widgets", ROWS)
    assert ingested["summary"]["accepted"] == 6
    after_ingest = await stats(live_client, tenant)
    assert after_ingest["total_records"] == 6
    assert after_ingest["indexing_status"] == {"indexed": 0, "pending": 6, "processing": 0, "failed": 0}
    assert after_ingest["queue_depth"] == 6

    # the real embedding pipeline indexes four of them
    async with async_engine.connect() as conn:
        collection_id = (
            await conn.execute(
                sa.text("SELECT id FROM collections WHERE tenant_id = :t AND name = 'widgets'"),
                {"t": uuid.UUID(tenant.tenant_id)},
            )
        ).scalar_one()
    report = run_embedding_pipeline(
        sync_engine,
        uuid.UUID(tenant.tenant_id),
        collection_id,
        provider=get_embedding_provider(app_settings),
        index=get_vector_index(app_settings, database_url=libpq_url(database_url)),
        options=PipelineOptions(batch_size=4, max_records=4),
    )
    assert report.indexed == 4
    embedded = await stats(live_client, tenant)
    assert embedded["indexing_status"] == {"indexed": 4, "pending": 2, "processing": 0, "failed": 0}
    assert embedded["queue_depth"] == 2

    # one pending record fails, one indexed is archived, one pending becomes a draft
    async with async_engine.begin() as conn:
        ids = (
            await conn.execute(
                sa.text(
                    "SELECT id, embedding_status FROM records WHERE collection_id = :c ORDER BY embedding_status, name"
                ),
                {"c": collection_id},
            )
        ).all()
        indexed = [i for i, s in ids if s == "indexed"]
        pending = [i for i, s in ids if s == "pending"]
        await conn.execute(
            sa.text("UPDATE records SET embedding_status = 'failed' WHERE id = :i"), {"i": pending[0]}
        )
        await conn.execute(sa.text("UPDATE records SET status = 'draft' WHERE id = :i"), {"i": pending[1]})
        await conn.execute(sa.text("UPDATE records SET status = 'archived' WHERE id = :i"), {"i": indexed[0]})
    queued = await live_client.post(f"{V1}/admin/reindex/widgets", headers=tenant.headers)
    assert queued.status_code == 200
    final = await stats(live_client, tenant)
    assert final["total_records"] == 6
    assert final["records_by_status"] == {"active": 4, "archived": 1, "draft": 1}
    # indexing covers active records: its parts add up to the active count
    assert final["indexing_status"] == {"indexed": 3, "pending": 0, "processing": 0, "failed": 1}
    assert final["queue_depth"] == 1  # no record waits for an embedding; one reindex request is queued
    async with async_engine.begin() as conn:  # leave no queued request behind for other tests' sensors
        await conn.execute(
            sa.text("UPDATE work_requests SET status = 'cancelled' WHERE tenant_id = :t"),
            {"t": uuid.UUID(tenant.tenant_id)},
        )


async def test_tenants_see_their_own_counts_and_operators_see_everyone(
    live_client: httpx.AsyncClient,
) -> None:
    first = await register_tenant(live_client, "stats-a")
    second = await register_tenant(live_client, "stats-b")
    await upload(live_client, first, "widgets", ROWS)
    await upload(live_client, second, "widgets", ROWS[: ROWS.index(b"Widget 2")])
    assert (await stats(live_client, first))["total_records"] == 6
    assert (await stats(live_client, second))["total_records"] == 2

    async with live_client.app.state.session_factory() as session:
        from tests.integration.conftest import create_system_key

        operator = await session.run_sync(create_system_key)
        await session.commit()
    everyone = await stats(live_client, operator)
    assert everyone["total_records"] >= 8
    assert sum(everyone["records_by_status"].values()) == everyone["total_records"]
    assert sum(everyone["indexing_status"].values()) == everyone["records_by_status"]["active"]


async def test_stats_need_the_admin_scope(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    issued = await client.post(
        f"{V1}/tenants/{tenant_key.tenant_id}/api-keys",
        json={"name": "reader", "scopes": ["tenant:read"]},
        headers=tenant_key.headers,
    )
    assert issued.status_code == 201, issued.text
    reader = TenantKey(tenant_key.tenant_id, issued.json()["data"]["apiKey"])
    denied = await client.get(f"{V1}/admin/stats", headers=reader.headers)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "FORBIDDEN"
    assert (await client.get(f"{V1}/admin/stats")).status_code == 401


async def test_figures_past_the_cap_are_estimates_and_say_so(
    live_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.admin.stats

    tenant = await register_tenant(live_client, "stats-cap")
    await upload(live_client, tenant, "widgets", ROWS)
    monkeypatch.setattr(core.admin.stats, "COUNT_CAP", 3)
    body = await stats(live_client, tenant)
    assert body["counts_exact"] is False
    # past the cap: the planner's estimate, never below the cap itself
    assert body["records_by_status"]["active"] >= 4 and body["indexing_status"]["pending"] >= 4
    assert body["records_by_status"]["draft"] == 0  # under the cap: still exact
