"""Plan limits: usage headers on every call, `/usage`, and 429 past a limit (memory and Redis)."""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa

from api.usage.hooks import forget_limits
from core.db.models import Tenant
from core.usage.counters import PlanLimits, RedisUsageCounter, windows_at
from tests.integration.conftest import TenantKey


async def set_limits(client: httpx.AsyncClient, tenant: TenantKey, **values: int) -> None:
    async with client.app.state.session_factory() as session:
        await session.execute(sa.update(Tenant).where(Tenant.id == uuid.UUID(tenant.tenant_id)).values(**values))
        await session.commit()
    forget_limits(uuid.UUID(tenant.tenant_id))


async def test_every_call_carries_usage_headers(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    first = await client.get("/api/v1/tenants", headers=tenant_key.headers)
    second = await client.get("/api/v1/tenants", headers=tenant_key.headers)
    remaining = [int(r.headers["X-Usage-Requests-Remaining"]) for r in (first, second)]
    assert remaining[1] == remaining[0] - 1
    assert float(second.headers["X-Usage-Requests-Percent"]) >= 0
    assert "X-Usage-Tokens-Remaining" in second.headers and "X-Usage-Tokens-Percent" in second.headers
    public = await client.get("/api/v1/health")
    assert "X-Usage-Requests-Remaining" not in public.headers


async def test_usage_endpoint_reports_used_limit_and_remaining(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    await set_limits(client, tenant_key, monthly_request_limit=1000, per_minute_limit=50, daily_limit=500)
    for _ in range(3):
        await client.get("/api/v1/tenants", headers=tenant_key.headers)
    usage = (await client.get("/api/v1/usage", headers=tenant_key.headers)).json()["data"]
    assert usage["requests"]["limit"] == 1000
    assert usage["requests"]["used"] >= 4  # three calls plus this one
    assert usage["requests"]["remaining"] == 1000 - usage["requests"]["used"]
    assert usage["rateLimit"]["limit"] == 50 and usage["daily"]["limit"] == 500
    assert 0 < usage["rateLimit"]["resetsInSeconds"] <= 60


async def test_per_minute_limit_answers_429_with_retry_after(
    client: httpx.AsyncClient, tenant_key: TenantKey, other_tenant_key: TenantKey
) -> None:
    await set_limits(client, tenant_key, per_minute_limit=3)
    codes = [(await client.get("/api/v1/tenants", headers=tenant_key.headers)).status_code for _ in range(5)]
    assert codes.count(200) <= 3 and codes[-1] == 429
    limited = await client.get("/api/v1/tenants", headers=tenant_key.headers)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # another tenant is not affected
    assert (await client.get("/api/v1/tenants", headers=other_tenant_key.headers)).status_code == 200


async def test_redis_counter_shares_counts_between_processes() -> None:
    from tests.integration.peers import require_redis

    url = require_redis()
    limits = PlanLimits(per_minute=2, daily=100, monthly_requests=100, monthly_tokens=10)
    tenant = uuid.uuid4()
    a, b = RedisUsageCounter(url), RedisUsageCounter(url)  # two API processes
    try:
        first = await a.hit(tenant, limits)
        second = await b.hit(tenant, limits, tokens=4)
        assert second.minute == first.minute + 1 and second.period_tokens == 4
        third = await a.hit(tenant, limits)
        with pytest.raises(Exception, match="rate limit"):
            third.enforce()
    finally:
        await a.close()
        await b.close()


def test_billing_period_follows_the_anchor_day() -> None:
    from datetime import UTC, date, datetime

    w = windows_at(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), 15)
    assert (w.period_start, w.period_end) == (date(2026, 2, 15), date(2026, 3, 15))
    w = windows_at(datetime(2026, 12, 20, tzinfo=UTC), 15)
    assert (w.period_start, w.period_end) == (date(2026, 12, 15), date(2027, 1, 15))
    w = windows_at(datetime(2026, 1, 3, tzinfo=UTC), 5)
    assert w.period_start == date(2025, 12, 5)
