"""Steps the pull tests share: register through the API, pull through API + in-process Dagster run."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx

from core.pulls.runs import CONNECTOR_TAG
from tests.integration.conftest import TenantKey
from tests.integration.pulls.conftest import DagsterRunner, ServedRun


async def register(client: httpx.AsyncClient, owner: TenantKey, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/connectors", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def register_pg(client: httpx.AsyncClient, owner: TenantKey, dsn: str, **body: Any) -> dict[str, Any]:
    """`register` a PostgreSQL connector of `owner` reading through `dsn`."""
    return await register(client, owner, connector_type="postgresql", connection_config={"dsn": dsn}, **body)


async def pull_via_dagster(
    client: httpx.AsyncClient,
    owner: TenantKey,
    runner: DagsterRunner,
    connector_id: str,
    *,
    fast_retries: bool = False,
) -> tuple[dict[str, Any], ServedRun]:
    """`POST .../pull?wait=false` (202), the sensor + run that serves it, then the pull's status."""
    queued = await client.post(f"/api/v1/connectors/{connector_id}/pull?wait=false", headers=owner.headers)
    assert queued.status_code == 202, queued.text
    request_id = queued.json()["request_id"]
    assert queued.json()["status"] == "queued"
    served = await asyncio.to_thread(runner.serve, request_id, fast_retries=fast_retries)
    status = await client.get(f"/api/v1/connectors/{connector_id}/pulls/{request_id}", headers=owner.headers)
    assert status.status_code == 200, status.text
    return status.json(), served


def serve_when_queued(
    runner: DagsterRunner, connector_id: str, stop: threading.Event, served: list[ServedRun]
) -> None:
    """In a thread, like the daemon: tick the sensor until a pull of `connector_id` is queued, run it."""
    while not stop.is_set():
        result = runner.tick()
        ours = [r for r in (result.run_requests or []) if r.tags.get(CONNECTOR_TAG) == connector_id]
        if ours:
            served.append(ServedRun(ours[0].run_key, runner.execute(ours[0]), ours[0]))
            return
        time.sleep(0.1)


async def waiting_pull(
    client: httpx.AsyncClient, owner: TenantKey, runner: DagsterRunner, connector_id: str
) -> tuple[httpx.Response, list[ServedRun]]:
    """`POST .../pull` (waiting, the default) while a thread plays the Dagster daemon."""
    stop, served = threading.Event(), []
    daemon = threading.Thread(target=serve_when_queued, args=(runner, connector_id, stop, served))
    daemon.start()
    try:
        response = await client.post(
            f"/api/v1/connectors/{connector_id}/pull?timeout=120", headers=owner.headers
        )
    finally:
        stop.set()
        await asyncio.to_thread(daemon.join)
    return response, served
