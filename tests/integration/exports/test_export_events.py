"""An export is a materialization of `collection_exports` for its collection, logged by the run that
wrote the file, with what an operator reads (rows, bytes, format, path, expiry); the collection's
`export_files_present` check passes while the file is there and fails when it goes missing early."""

from __future__ import annotations

import uuid
from pathlib import Path

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa

from core.settings import get_settings
from orchestration.resources import DatabaseResource
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.exports.dagster_runs import serve_export_requests
from tests.integration.exports.test_export_api import seed_catalog
from tests.integration.orchestration.harness import materializations, metadata, run_checks


@pytest.fixture
async def owner(live_client: httpx.AsyncClient, sync_engine: sa.Engine) -> TenantKey:
    tenant = await register_tenant(live_client, "exp-events")
    seed_catalog(sync_engine, tenant)
    return tenant


async def test_an_export_run_materializes_its_collections_exports_and_the_check_watches_the_file(
    live_client: httpx.AsyncClient, owner: TenantKey, database_url: str
) -> None:
    started = await live_client.post("/api/v1/export", params={"collection": "manufacturing", "format": "csv"},
                                     headers=owner.headers)
    assert started.status_code == 202, started.text
    export_id = started.json()["export_id"]
    request_id = str(uuid.UUID(hex=export_id.removeprefix("exp_")))
    partition = f"{owner.name}/manufacturing"
    with dg.instance_for_test() as instance:
        [result] = serve_export_requests(instance, database_url, only={request_id})
        assert result.success
        [record] = materializations(instance, "collection_exports", partition, limit=5)
        assert record.run_id == result.run_id
        meta = metadata(record)
        assert (meta["export_id"], meta["request_id"], meta["format"], meta["record_status"]) == (
            export_id, request_id, "csv", "active")
        assert meta["rows"] == 3 and meta["bytes"] > 0
        assert meta["tenant_id"] == owner.tenant_id and meta["collection"] == "manufacturing"
        assert meta["expires_at"] and meta["duration_ms"] >= 0
        file = Path(get_settings().export_dir) / meta["path"]
        assert file.is_file()

        # the run checked what it wrote, for that collection's partition
        [in_run] = [e for e in result.get_asset_check_evaluations() if e.check_name == "export_files_present"]
        assert in_run.passed and in_run.partition == partition
        [stored] = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("collection_exports"), "export_files_present"), limit=1)
        assert stored.partition == partition and stored.run_id == result.run_id  # what the UI shows
        database = DatabaseResource(url=database_url)
        assert run_checks(instance, database, partition)["export_files_present"].passed
        file.unlink()  # lost before its expiry: the download would fail
        evaluation = run_checks(instance, database, partition)["export_files_present"]
    assert not evaluation.passed
    assert [m["export_request_id"] for m in evaluation.metadata["missing"].value] == [request_id]
