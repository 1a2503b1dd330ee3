"""`GET /usage`: the tenant's requests, tokens, rate limit and daily limit, used and left."""

from __future__ import annotations

from litestar import Controller, get
from msgspec.structs import astuple

from api.auth.guards import requires_scope
from api.auth.principal import AuthedRequest
from api.usage.hooks import plan_limits
from api.usage.schemas import Meter, Period, UsageResponse, UsageView, WindowMeter


class UsageController(Controller):
    path = "/usage"
    tags = ["usage"]
    guards = [requires_scope("tenant:read")]

    @get("/", operation_id="getUsage")
    async def usage(self, request: AuthedRequest) -> UsageResponse:
        """Usage and quotas of the calling tenant (this request included)."""
        tenant_id = request.user.tenant_id
        limits = await plan_limits(request, tenant_id)
        snap = await request.app.state.usage.peek(tenant_id, limits)
        w = snap.windows
        return UsageResponse(
            data=UsageView(
                tenant_id=str(tenant_id),
                period=Period(start=w.period_start.isoformat(), end=w.period_end.isoformat()),
                requests=Meter.of(snap.period_requests, limits.monthly_requests),
                tokens=Meter.of(snap.period_tokens, limits.monthly_tokens),
                rate_limit=WindowMeter(*astuple(Meter.of(snap.minute, limits.per_minute)), w.seconds_to_next_minute),
                daily=WindowMeter(*astuple(Meter.of(snap.day, limits.daily)), w.seconds_to_next_day),
            )
        )


ROUTES = [UsageController]
