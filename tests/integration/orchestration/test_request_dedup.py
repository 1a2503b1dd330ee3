"""Repeating a request while an identical one waits queues it once: the caller gets the same id.

Through the real API on real PostgreSQL: housekeeping and pulls asked twice (and eight times at
once) while queued give one request; once it runs, asking again queues a new one; another tenant's
identical request is its own.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy.orm import Session

from core.requests import start_request
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.connectors.conftest import pg_source_url  # noqa: F401

pytestmark = pytest.mark.integration


async def housekeeping(client: httpx.AsyncClient, owner: TenantKey) -> str:
    response = await client.post(f"/api/v1/tenants/{owner.tenant_id}/housekeeping", headers=owner.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return response.json()["request_id"]


async def test_identical_housekeeping_requests_are_queued_once(live_client: httpx.AsyncClient, sync_engine) -> None:
    owner, other = await register_tenant(live_client, "dedup"), await register_tenant(live_client, "dedup")
    first = await housekeeping(live_client, owner)
    assert await housekeeping(live_client, owner) == first
    at_once = await asyncio.gather(*(housekeeping(live_client, owner) for _ in range(8)))
    assert set(at_once) == {first}
    assert await housekeeping(live_client, other) != first  # another tenant's is its own
    with Session(sync_engine) as session:
        start_request(session, first, run_id="run-1")  # a run took it: no longer waiting
    again = await housekeeping(live_client, owner)
    assert again != first
    status = await live_client.get(f"/api/v1/requests/{first}", headers=owner.headers)
    assert status.json()["status"] == "running"


async def test_a_second_pull_while_one_is_queued_returns_the_queued_one(
    live_client: httpx.AsyncClient, pg_source_url: str  # noqa: F811
) -> None:
    owner = await register_tenant(live_client, "dedup")
    body = {"name": "pg", "connector_type": "postgresql", "vertical": f"v_{uuid.uuid4().hex[:6]}",
            "entity_type": "row", "connection_config": {"dsn": pg_source_url}, "query": "SELECT 1 AS id"}
    created = await live_client.post("/api/v1/connectors", json=body, headers=owner.headers)
    assert created.status_code == 201, created.text
    url = f"/api/v1/connectors/{created.json()['id']}/pull?wait=false"
    answers = [await live_client.post(url, headers=owner.headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert len({a.json()["request_id"] for a in answers}) == 1
