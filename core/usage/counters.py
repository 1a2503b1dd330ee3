"""Usage counters per tenant: requests this minute, today and this billing period, and tokens.

Two stores behind one interface: Redis when `REDIS_URL` is set (shared by every API process behind
a load balancer), process memory otherwise. Windows are fixed (the current UTC minute, the UTC day,
the billing period starting on the tenant's anchor day), so keys expire on their own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.errors import RateLimited


@dataclass(frozen=True)
class PlanLimits:
    per_minute: int
    daily: int
    monthly_requests: int
    monthly_tokens: int
    billing_anchor_day: int = 1


@dataclass(frozen=True)
class Windows:
    minute: str
    day: str
    period: str
    seconds_to_next_minute: int
    seconds_to_next_day: int
    period_start: date
    period_end: date


@dataclass(frozen=True)
class UsageSnapshot:
    limits: PlanLimits
    windows: Windows
    minute: int
    day: int
    period_requests: int
    period_tokens: int

    def remaining_requests(self) -> int:
        return max(0, self.limits.monthly_requests - self.period_requests)

    def remaining_tokens(self) -> int:
        return max(0, self.limits.monthly_tokens - self.period_tokens)

    def percent(self, used: int, limit: int) -> float:
        return round(100.0 * used / limit, 2) if limit else 100.0

    def headers(self) -> dict[str, str]:
        """The usage headers every API response carries."""
        return {
            "X-Usage-Requests-Remaining": str(self.remaining_requests()),
            "X-Usage-Tokens-Remaining": str(self.remaining_tokens()),
            "X-Usage-Requests-Percent": str(self.percent(self.period_requests, self.limits.monthly_requests)),
            "X-Usage-Tokens-Percent": str(self.percent(self.period_tokens, self.limits.monthly_tokens)),
        }

    def enforce(self) -> None:
        """RateLimited (429) when any window is over its limit, with when to retry."""
        if self.minute > self.limits.per_minute:
            raise RateLimited("rate limit exceeded: too many requests this minute",
                              retry_after=max(1, self.windows.seconds_to_next_minute))
        if self.day > self.limits.daily:
            raise RateLimited("daily request limit exceeded; resets at midnight UTC",
                              retry_after=max(1, self.windows.seconds_to_next_day))
        if self.period_requests > self.limits.monthly_requests:
            seconds = int((datetime.combine(self.windows.period_end, datetime.min.time(), UTC)
                           - datetime.now(UTC)).total_seconds())
            raise RateLimited("monthly request quota exceeded; resets on the billing anchor day",
                              retry_after=max(1, seconds))


def _add_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def windows_at(now: datetime, anchor_day: int) -> Windows:
    """The fixed windows `now` falls in, for a billing period anchored on `anchor_day` (1-28)."""
    anchor = min(max(anchor_day, 1), 28)
    this_month = date(now.year, now.month, anchor)
    if now.day >= anchor:
        start = this_month
    else:
        prev = date(now.year - (now.month == 1), (now.month - 2) % 12 + 1, 1)
        start = prev.replace(day=anchor)
    end = _add_month(start.replace(day=1)).replace(day=anchor)
    epoch = int(now.timestamp())
    return Windows(
        minute=now.strftime("%Y%m%d%H%M"),
        day=now.strftime("%Y%m%d"),
        period=start.isoformat(),
        seconds_to_next_minute=60 - epoch % 60,
        seconds_to_next_day=86400 - epoch % 86400,
        period_start=start,
        period_end=end,
    )


class UsageCounter(ABC):
    """Counts a tenant's requests and tokens in their windows."""

    @abstractmethod
    async def hit(self, tenant_id: uuid.UUID, limits: PlanLimits, *, tokens: int = 0,
                  count_request: bool = True) -> UsageSnapshot:
        """Count one request (and `tokens`) and return the usage after it."""

    async def peek(self, tenant_id: uuid.UUID, limits: PlanLimits) -> UsageSnapshot:
        """The usage now, counting nothing."""
        return await self.hit(tenant_id, limits, count_request=False)


class MemoryUsageCounter(UsageCounter):
    """Counters in this process (a single API process, tests, development)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = asyncio.Lock()

    def _bump(self, key: str, by: int, ttl: int) -> int:
        now = time.monotonic()
        value, expires = self._counts.get(key, (0, now + ttl))
        if expires <= now:
            value, expires = 0, now + ttl
        value += by
        self._counts[key] = (value, expires)
        return value

    async def hit(self, tenant_id: uuid.UUID, limits: PlanLimits, *, tokens: int = 0,
                  count_request: bool = True) -> UsageSnapshot:
        w = windows_at(datetime.now(UTC), limits.billing_anchor_day)
        n = 1 if count_request else 0
        async with self._lock:
            if len(self._counts) > 100_000:  # drop expired keys now and then
                now = time.monotonic()
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            return UsageSnapshot(
                limits, w,
                minute=self._bump(f"{tenant_id}:m:{w.minute}", n, 120),
                day=self._bump(f"{tenant_id}:d:{w.day}", n, 2 * 86400),
                period_requests=self._bump(f"{tenant_id}:p:{w.period}", n, 32 * 86400),
                period_tokens=self._bump(f"{tenant_id}:t:{w.period}", tokens, 32 * 86400),
            )


class RedisUsageCounter(UsageCounter):
    """Counters in Redis: INCRBY + EXPIRE in one pipeline per request."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    async def hit(self, tenant_id: uuid.UUID, limits: PlanLimits, *, tokens: int = 0,
                  count_request: bool = True) -> UsageSnapshot:
        w = windows_at(datetime.now(UTC), limits.billing_anchor_day)
        n = 1 if count_request else 0
        keys = [(f"kariz:usage:{tenant_id}:m:{w.minute}", n, 120),
                (f"kariz:usage:{tenant_id}:d:{w.day}", n, 2 * 86400),
                (f"kariz:usage:{tenant_id}:p:{w.period}", n, 32 * 86400),
                (f"kariz:usage:{tenant_id}:t:{w.period}", tokens, 32 * 86400)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, by, ttl in keys:
                pipe.incrby(key, by)
                pipe.expire(key, ttl, nx=True)
            values = await pipe.execute()
        minute, day, period, tok = (int(values[i]) for i in (0, 2, 4, 6))
        return UsageSnapshot(limits, w, minute=minute, day=day, period_requests=period, period_tokens=tok)

    async def close(self) -> None:
        await self._redis.aclose()


def make_usage_counter(redis_url: str | None) -> UsageCounter:
    """Redis when configured, else process memory."""
    return RedisUsageCounter(redis_url) if redis_url else MemoryUsageCounter()
