"""The API's synchronous ingestion is a `collection_records` materialization in the Dagster instance,
with the counts an operator reads; a Dagster instance that cannot be reached never fails the upload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa

from api import asset_events
from core.db.engine import make_sync_engine
from core.metrics import ASSET_EVENTS
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.orchestration.harness import materializations, runless_instance

CSV = b"sku,name,price\nA-1,Hex bolt M8,0.12\nA-2,Washer M8,0.01\nA-1,Hex bolt M8,0.12\n"


@pytest_asyncio.fixture
async def client(live_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Ingestion writes with COPY on its own connection: these tests run on the committing app."""
    return live_client


@pytest_asyncio.fixture
async def tenant_key(client: httpx.AsyncClient) -> TenantKey:
    return await register_tenant(client, "assets")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with runless_instance() as test_instance:
        yield test_instance


def _materializations(instance: dg.DagsterInstance, partition: str) -> list[dg.AssetMaterialization]:
    return [record.asset_materialization for record in materializations(instance, "collection_records", partition)]


async def test_a_file_upload_is_a_materialization_of_its_collection_with_its_counts(
    client: httpx.AsyncClient, tenant_key: TenantKey, instance: dg.DagsterInstance, database_url: str
) -> None:
    answer = await client.post("/api/v1/ingest/parts/file?entity_type=part&source_name=q2-catalog",
                               files={"file": ("parts.csv", CSV, "text/csv")}, headers=tenant_key.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    collection_id = _collection_id(database_url, tenant_key, "parts")
    partition = f"{tenant_key.name}/parts"  # readable: the tenant's name and the collection's

    assert partition in instance.get_dynamic_partitions("collections")
    [event] = _materializations(instance, partition)
    meta = {key: value.value for key, value in event.metadata.items()}
    assert meta["collection"] == "parts" and meta["tenant"] == tenant_key.name
    assert meta["collection_id"] == collection_id
    assert meta["tenant_id"] == tenant_key.tenant_id
    assert meta["ingestion_id"] == body["ingestion_id"]
    assert (meta["rows_accepted"], meta["rows_rejected"], meta["rows_deduplicated"]) == (2, 0, 1)
    assert meta["file_hash"] == body["metadata"]["file_hash"]
    assert meta["source_type"] == "file_upload" and meta["source"] == "q2-catalog"
    assert meta["active_records"] == 2
    assert meta["duration_ms"] == body["metadata"]["processing_time_ms"]
    assert "records_updated" not in meta  # no record key: the keyed counts are not shown

    again = await client.post("/api/v1/ingest/parts?entity_type=part&key_column=sku",
                              json=[{"sku": "A-1", "name": "Hex bolt M8", "price": 0.15},
                                    {"sku": "A-3", "name": "Nut M8", "price": 0.02}],
                              headers=tenant_key.headers)
    assert again.status_code == 200, again.text
    latest = _materializations(instance, partition)[0]
    meta = {key: value.value for key, value in latest.metadata.items()}
    assert meta["source_type"] == "api"
    assert (meta["records_inserted"], meta["records_updated"], meta["records_unchanged"]) == (1, 1, 0)
    assert meta["record_key"] == "sku"
    assert meta["active_records"] == 3


async def test_an_upload_that_ingests_nothing_reports_nothing(
    client: httpx.AsyncClient, tenant_key: TenantKey, instance: dg.DagsterInstance
) -> None:
    answer = await client.post("/api/v1/ingest/empty-rows?entity_type=part", json=[{"name": ""}],
                               headers=tenant_key.headers)
    assert answer.status_code == 422
    assert not instance.fetch_materializations(dg.AssetKey("collection_records"), limit=10).records


async def test_an_unreachable_dagster_storage_is_logged_and_counted_and_the_upload_succeeds(
    client: httpx.AsyncClient, tenant_key: TenantKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: postgresql://nobody@127.0.0.1:1/kariz_dagster\n"
    )
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    asset_events.use_instance(None)
    failed = ASSET_EVENTS.labels("collection_records", "failed")
    before = failed._value.get()

    answer = await client.post("/api/v1/ingest/offline?entity_type=part", json=[{"name": "Hex bolt"}],
                               headers=tenant_key.headers)

    assert answer.status_code == 200, answer.text
    assert answer.json()["summary"]["accepted"] == 1
    assert failed._value.get() == before + 1
    assert "could not report collection_records" in caplog.text

    skipped = ASSET_EVENTS.labels("collection_records", "skipped")
    paused = skipped._value.get()
    second = await client.post("/api/v1/ingest/offline?entity_type=part", json=[{"name": "Lock nut"}],
                               headers=tenant_key.headers)
    assert second.status_code == 200, second.text
    assert (failed._value.get(), skipped._value.get()) == (before + 1, paused + 1)  # no second wait
    asset_events.use_instance(None)
    listed = await client.get("/api/v1/collections", headers=tenant_key.headers)
    assert "offline" in listed.text  # the records were committed although Dagster was down


def _collection_id(database_url: str, key: TenantKey, name: str) -> str:
    engine = make_sync_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            return str(connection.execute(
                sa.text("SELECT id FROM collections WHERE tenant_id = :t AND name = :n"),
                {"t": key.tenant_id, "n": name},
            ).scalar_one())
    finally:
        engine.dispose()
