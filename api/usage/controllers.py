"""`GET /usage`: the tenant's requests, tokens, rate limit and daily limit, used and left."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get

from api.auth.guards import requires_scope
from api.auth.principal import AuthedRequest
from api.usage.hooks import plan_limits


def _meter(used: int, limit: int) -> dict[str, Any]:
    return {"used": used, "limit": limit, "remaining": max(0, limit - used),
            "percentUsed": round(100.0 * used / limit, 2) if limit else 100.0}


class UsageController(Controller):
    path = "/usage"
    tags = ["usage"]
    guards = [requires_scope("tenant:read")]

    @get("/", operation_id="getUsage")
    async def usage(self, request: AuthedRequest) -> dict[str, Any]:
        """Usage and quotas of the calling tenant (this request included)."""
        tenant_id = request.user.tenant_id
        limits = await plan_limits(request, tenant_id)
        snap = await request.app.state.usage.peek(tenant_id, limits)
        w = snap.windows
        return {
            "success": True,
            "data": {
                "tenantId": str(tenant_id),
                "period": {"start": w.period_start.isoformat(), "end": w.period_end.isoformat()},
                "requests": _meter(snap.period_requests, limits.monthly_requests),
                "tokens": _meter(snap.period_tokens, limits.monthly_tokens),
                "rateLimit": {**_meter(snap.minute, limits.per_minute), "resetsInSeconds": w.seconds_to_next_minute},
                "daily": {**_meter(snap.day, limits.daily), "resetsInSeconds": w.seconds_to_next_day},
            },
        }


ROUTES = [UsageController]
