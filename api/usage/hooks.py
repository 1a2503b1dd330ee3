"""Counting every authenticated request against its tenant's plan: 429 past a limit, and the
usage headers on every response."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from core.db.models import Tenant
from core.errors import NotFound, RateLimited
from core.usage.counters import PlanLimits, UsageSnapshot

LIMITS_CACHE_SECONDS = 30.0
_limits_cache: dict[uuid.UUID, tuple[PlanLimits, float]] = {}


async def plan_limits(request: Request, tenant_id: uuid.UUID) -> PlanLimits:
    """The tenant's limits (cached briefly per process)."""
    cached = _limits_cache.get(tenant_id)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    async with request.app.state.session_factory() as session:
        row = (await session.execute(
            sa.select(Tenant.per_minute_limit, Tenant.daily_limit, Tenant.monthly_request_limit,
                      Tenant.monthly_token_limit, Tenant.billing_anchor_day).where(Tenant.id == tenant_id)
        )).first()
    if row is None:
        raise NotFound("tenant not found")
    limits = PlanLimits(*row)
    _limits_cache[tenant_id] = (limits, time.monotonic() + LIMITS_CACHE_SECONDS)
    return limits


def forget_limits(tenant_id: uuid.UUID) -> None:
    _limits_cache.pop(tenant_id, None)


async def count_request(request: Request) -> None:
    """`before_request`: count the call, remember the snapshot for the headers, 429 when over
    (and then the call is not counted)."""
    principal = request.scope.get("user")
    if principal is None:
        return
    limits = await plan_limits(request, principal.tenant_id)
    usage = request.app.state.usage
    snapshot = await usage.hit(principal.tenant_id, limits)
    request.scope.setdefault("state", {})["kariz_usage"] = snapshot
    try:
        snapshot.enforce()
    except RateLimited:  # a refused request counts toward no quota
        await usage.refund(principal.tenant_id, snapshot.windows)
        raise


async def add_usage_headers(message: Message, scope: Scope) -> None:
    """`before_send`: the X-Usage-* headers on every response to an authenticated call."""
    if message["type"] != "http.response.start":
        return
    snapshot: UsageSnapshot | None = scope.get("state", {}).get("kariz_usage")
    if snapshot is None:
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in snapshot.headers().items():
        headers[name] = value
