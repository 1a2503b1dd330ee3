from __future__ import annotations

import httpx

from tests.integration.conftest import TenantKey


async def test_metrics_count_requests_by_route_template_and_queue_depth(
    client: httpx.AsyncClient, tenant_key: TenantKey
) -> None:
    for _ in range(2):
        await client.get(f"/api/v1/tenants/{tenant_key.tenant_id}", headers=tenant_key.headers)
    await client.post(f"/api/v1/tenants/{tenant_key.tenant_id}/housekeeping", headers=tenant_key.headers)
    response = await client.get("/api/v1/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    # grouped by the route's template, never the raw id
    assert 'path="/api/v1/tenants/{tenant_id}"' in text
    assert tenant_key.tenant_id not in text
    assert "kariz_request_duration_seconds_bucket" in text
    depth = [line for line in text.splitlines() if line.startswith('kariz_queue_depth{queue="requests"}')]
    assert depth and float(depth[0].split()[-1]) >= 1
