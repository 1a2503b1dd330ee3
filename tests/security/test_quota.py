"""Quotas that hold: daily and monthly counts live in PostgreSQL (a restart keeps them, no Redis), a
request answered 429 counts toward nothing, sign-ups are limited per address and can be turned off,
and racing sign-ups for one name give one 201 and 409s."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from api.app import create_app
from api.usage.hooks import forget_limits
from core.db.models import Tenant
from core.settings import Settings
from tests.integration.conftest import TenantKey, register_tenant, serve_in_loop

V1 = "/api/v1"


def live_app(async_engine: AsyncEngine, settings: Settings):  # noqa: ANN201 - a Litestar app
    return create_app(settings, session_factory=async_sessionmaker(async_engine, expire_on_commit=False))


async def set_limits(async_engine: AsyncEngine, tenant: TenantKey, **values: int) -> None:
    async with async_engine.begin() as conn:
        await conn.execute(sa.update(Tenant).where(Tenant.id == uuid.UUID(tenant.tenant_id)).values(**values))
    forget_limits(uuid.UUID(tenant.tenant_id))


async def stored_counts(async_engine: AsyncEngine, tenant: TenantKey) -> dict[str, int]:
    async with async_engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT window_key, count FROM usage_counters WHERE tenant_id = :t"),
                                  {"t": uuid.UUID(tenant.tenant_id)})
        return {key[0]: int(count) for key, count in rows.all()}


async def test_daily_and_monthly_counts_survive_a_restart(async_engine: AsyncEngine, app_settings: Settings) -> None:
    async with serve_in_loop(live_app(async_engine, app_settings)) as first:
        tenant = await register_tenant(first, "restart")
        for _ in range(5):
            assert (await first.get(f"{V1}/export/active", headers=tenant.headers)).status_code == 200
        before = (await first.get(f"{V1}/usage", headers=tenant.headers)).json()["data"]
    assert before["requests"]["used"] == 6 and before["daily"]["used"] == 6
    assert await stored_counts(async_engine, tenant) == {"d": 6, "p": 6}  # written at shut-down
    async with serve_in_loop(live_app(async_engine, app_settings)) as second:  # a new process
        after = (await second.get(f"{V1}/usage", headers=tenant.headers)).json()["data"]
    assert after["requests"]["used"] == 7 and after["daily"]["used"] == 7


async def test_a_monthly_quota_still_holds_after_a_restart(async_engine: AsyncEngine, app_settings: Settings) -> None:
    async with serve_in_loop(live_app(async_engine, app_settings)) as first:
        tenant = await register_tenant(first, "monthly")
        await set_limits(async_engine, tenant, monthly_request_limit=3)
        codes = [(await first.get(f"{V1}/export/active", headers=tenant.headers)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    async with serve_in_loop(live_app(async_engine, app_settings)) as second:
        again = await second.get(f"{V1}/export/active", headers=tenant.headers)
    assert again.status_code == 429 and "monthly" in again.json()["detail"]


async def test_requests_answered_429_count_toward_nothing(async_engine: AsyncEngine, app_settings: Settings) -> None:
    async with serve_in_loop(live_app(async_engine, app_settings)) as http:
        tenant = await register_tenant(http, "refused")
        await set_limits(async_engine, tenant, per_minute_limit=3)
        codes = [(await http.get(f"{V1}/export/active", headers=tenant.headers)).status_code for _ in range(10)]
        assert codes.count(200) == 3 and codes.count(429) == 7
    counts = await stored_counts(async_engine, tenant)
    assert counts == {"d": 3, "p": 3}, "seven refused calls were counted"


async def test_register_is_limited_per_address(async_engine: AsyncEngine, app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"register_per_hour_limit": 2})
    async with serve_in_loop(live_app(async_engine, settings)) as http:
        answers = []
        for _ in range(3):
            name = f"signup-{uuid.uuid4().hex[:8]}"
            answers.append(await http.post(f"{V1}/register", json={"name": name, "email": f"{name}@example.com"}))
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1


async def test_registration_can_be_turned_off(async_engine: AsyncEngine, app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"open_registration": False})
    async with serve_in_loop(live_app(async_engine, settings)) as http:
        answer = await http.post(f"{V1}/register", json={"name": "closed", "email": "c@example.com"})
    assert answer.status_code == 403 and "KARIZ_OPEN_REGISTRATION" in answer.json()["detail"]


async def test_eight_racing_signups_for_one_name_give_one_201(live_client: httpx.AsyncClient) -> None:
    name = f"race-{uuid.uuid4().hex[:8]}"
    answers = await asyncio.gather(*(
        live_client.post(f"{V1}/register", json={"name": name, "email": f"u{i}@example.com"}) for i in range(8)
    ))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 7, [a.text for a in answers]
