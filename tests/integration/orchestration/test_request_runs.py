"""A request row written through the API becomes a Dagster run tagged with tenant and request id."""

from __future__ import annotations

import dagster as dg
import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from orchestration.definitions import defs
from orchestration.requests import REQUEST_TAG, TENANT_TAG
from orchestration.resources import DatabaseResource
from tests.integration.conftest import register_tenant


async def test_housekeeping_request_runs_once_through_the_sensor(
    live_client: httpx.AsyncClient, database_url: str, async_engine: AsyncEngine
) -> None:
    owner = await register_tenant(live_client, "hk")
    queued = await live_client.post(f"/api/v1/tenants/{owner.tenant_id}/housekeeping", headers=owner.headers)
    assert queued.status_code == 202
    request_id = queued.json()["request_id"]

    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def("housekeeping_request_sensor")
    job = repository.get_job("housekeeping_job")
    database = DatabaseResource(url=database_url)

    with dg.instance_for_test() as instance:
        result = sensor(dg.build_sensor_context(instance=instance, resources={"database": database}))
        ours = [r for r in result.run_requests if r.run_key == request_id]
        assert len(ours) == 1
        run_request = ours[0]
        assert run_request.tags[TENANT_TAG] == owner.tenant_id
        assert run_request.tags[REQUEST_TAG] == request_id

        run = job.execute_in_process(
            run_config=run_request.run_config, instance=instance, tags=run_request.tags,
            resources={"database": database},
        )
        assert run.success
        assert instance.get_run_by_id(run.run_id).tags[REQUEST_TAG] == request_id

        # the row is no longer queued, so the next tick asks for nothing more for it
        again = sensor(dg.build_sensor_context(instance=instance, resources={"database": database}))
        assert all(r.run_key != request_id for r in (again.run_requests or []))

    status = await live_client.get(f"/api/v1/requests/{request_id}", headers=owner.headers)
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "succeeded"
    assert body["run_id"] == run.run_id
    assert body["result"]["active_keys"] == 1


async def test_request_status_is_invisible_to_other_tenants(live_client: httpx.AsyncClient) -> None:
    owner = await register_tenant(live_client, "hk-owner")
    stranger = await register_tenant(live_client, "hk-stranger")
    queued = await live_client.post(f"/api/v1/tenants/{owner.tenant_id}/housekeeping", headers=owner.headers)
    request_id = queued.json()["request_id"]
    peek = await live_client.get(f"/api/v1/requests/{request_id}", headers=stranger.headers)
    assert peek.status_code == 404
    assert peek.json()["error"]["code"] == "NOT_FOUND"
    cross = await live_client.post(f"/api/v1/tenants/{owner.tenant_id}/housekeeping", headers=stranger.headers)
    assert cross.status_code == 403
