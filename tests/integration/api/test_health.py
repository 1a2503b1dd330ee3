from __future__ import annotations

from httpx import AsyncClient


async def test_health_reports_version_uptime_and_memory(client: AsyncClient) -> None:
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["version"]
    assert body["uptime"] >= 0
    assert body["memory"]["rssMb"] > 0


async def test_readiness_checks_postgres_with_latency(client: AsyncClient) -> None:
    for path in ("/api/v1/health/ready", "/api/v1/ready"):
        response = await client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ready"
        assert body["checks"]["database"]["status"] == "ok"
        assert body["checks"]["database"]["latencyMs"] >= 0


async def test_openapi_and_docs_are_served(client: AsyncClient) -> None:
    schema = await client.get("/api/v1/docs/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/register" in schema.json()["paths"]
    page = await client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "<html" in page.text.lower()
