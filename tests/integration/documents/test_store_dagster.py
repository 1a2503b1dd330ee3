"""The store sync on the real Dagster stack: API operation -> sensor -> partitioned asset run, run
metadata, the vector/chunk asset check, a backfill-style re-sync, and a dead run failing its operation."""

from __future__ import annotations

import uuid

import dagster as dg
import httpx
import sqlalchemy as sa

from assets.documents.partitions import STORE_TENANTS
from core.documents.sync import abandon_operation
from orchestration.definitions import defs
from orchestration.documents import OPERATION_TAG
from orchestration.requests import TENANT_TAG
from orchestration.resources import DatabaseResource
from tests.integration.conftest import register_tenant
from tests.integration.documents.conftest import create_account, upload
from tests.integration.documents.samples import make_encrypted_pdf, make_pdf


async def test_sync_request_runs_once_through_the_sensor_with_metadata_and_check(
    live_client: httpx.AsyncClient, database_url: str
) -> None:
    owner = await register_tenant(live_client, "store-dagster")
    account = await create_account(live_client, owner)
    good = (await upload(live_client, owner, account, "manual.pdf",
                         make_pdf(["Anchor chain inspection every season.", "Winch grease points."]))).json()["data"]
    bad = (await upload(live_client, owner, account, "secret.pdf", make_encrypted_pdf())).json()["data"]
    queued = await live_client.post(f"/api/v1/tenants/{owner.tenant_id}/store/sync", headers=owner.headers,
                                    json={"assetIds": [good["id"], bad["id"]]})
    operation_id = queued.json()["data"]["operationId"]

    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def("store_operation_sensor")
    job = repository.get_job("rag_store_sync_job")
    database = DatabaseResource(url=database_url)
    resources = {"database": database}

    with dg.instance_for_test() as instance:
        result = sensor(dg.build_sensor_context(instance=instance, resources=resources))
        ours = [r for r in result.run_requests if r.run_key == operation_id]
        assert len(ours) == 1
        request = ours[0]
        assert request.partition_key == owner.tenant_id
        assert request.tags[TENANT_TAG] == owner.tenant_id and request.tags[OPERATION_TAG] == operation_id
        added = [p for r in result.dynamic_partitions_requests for p in r.partition_keys]
        assert owner.tenant_id in added
        instance.add_dynamic_partitions(STORE_TENANTS.name, added)

        run = job.execute_in_process(run_config=request.run_config, instance=instance, tags=request.tags,
                                     partition_key=request.partition_key, resources=resources)
        assert run.success
        materialization = run.asset_materializations_for_node("rag_store_chunks")[0]
        meta = {k: v.value for k, v in materialization.metadata.items()}
        assert (meta["files"], meta["synced"], meta["failed"], meta["pages"]) == (2, 1, 1, 2)
        assert meta["chunks"] >= 2 and meta["chunks_per_second"] > 0
        assert meta["operation_id"] == operation_id
        checks = run.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks)

        # the operation started, so the next tick asks for nothing more
        again = sensor(dg.build_sensor_context(instance=instance, resources=resources))
        assert all(r.run_key != operation_id for r in (again.run_requests or []))

        # a backfill of the tenant's partition (no operation) re-syncs the whole store
        backfill = job.execute_in_process(instance=instance, partition_key=owner.tenant_id, resources=resources)
        assert backfill.success
        meta = {k: v.value for k, v in backfill.asset_materializations_for_node("rag_store_chunks")[0].metadata.items()}
        assert meta["synced"] == 1 and meta["failed"] == 1

    progress = (await live_client.get(f"/api/v1/tenants/{owner.tenant_id}/store/progress",
                                      headers=owner.headers)).json()["data"]
    assert progress["status"] == "completed" and progress["failed"] == 1


async def test_an_abandoned_operation_fails_and_its_files_go_back(
    live_client: httpx.AsyncClient, database_url: str, sync_engine: sa.Engine
) -> None:
    """What `store_run_failure_sensor` does for a run that died before it could report."""
    owner = await register_tenant(live_client, "store-dead")
    account = await create_account(live_client, owner)
    good = (await upload(live_client, owner, account, "a.txt", b"tide tables", sync=True)).json()["data"]
    operation_id = good["operationId"]
    with sync_engine.begin() as conn:  # a run took it and died before it could report
        conn.execute(sa.text("UPDATE store_operations SET started_at = now() WHERE id = :o"), {"o": operation_id})
        conn.execute(sa.text("UPDATE files SET status = 'syncing' WHERE id = :f"), {"f": good["id"]})

    with DatabaseResource(url=database_url).session() as session:
        abandon_operation(session, uuid.UUID(operation_id), "run worker lost")
    progress = (await live_client.get(f"/api/v1/tenants/{owner.tenant_id}/store/progress",
                                      headers=owner.headers)).json()["data"]
    assert progress["status"] == "failed"
    details = (await live_client.get(f"/api/v1/tenants/{owner.tenant_id}/store", headers=owner.headers)).json()
    assert details["data"]["files"][0]["status"] == "pending"
