"""Usage counters per tenant: requests this minute, today and this billing period, and tokens.

Three stores behind one interface: Redis when `REDIS_URL` is set (shared by every API process behind
a load balancer); otherwise PostgreSQL for the daily and billing-period counts (table
`usage_counters`, so a restart loses none of them) with the per-minute window in process memory; and
process memory alone for callers without a database. Windows are fixed (the current UTC minute, the
UTC day, the billing period starting on the tenant's anchor day). A request refused with 429 is
taken back (`admit`), so it never counts toward any quota.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from core.errors import RateLimited

log = logging.getLogger(__name__)


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

    @abstractmethod
    async def refund(self, tenant_id: uuid.UUID, windows: Windows, *, tokens: int = 0) -> None:
        """Take back one request (and `tokens`) counted in `windows`."""

    async def admit(self, tenant_id: uuid.UUID, limits: PlanLimits, *, tokens: int = 0) -> UsageSnapshot:
        """Count one request; RateLimited (429) past a limit, and then the request is not counted."""
        snapshot = await self.hit(tenant_id, limits, tokens=tokens)
        try:
            snapshot.enforce()
        except RateLimited:
            await self.refund(tenant_id, snapshot.windows, tokens=tokens)
            raise
        return snapshot


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


    async def refund(self, tenant_id: uuid.UUID, windows: Windows, *, tokens: int = 0) -> None:
        async with self._lock:
            for key, ttl in ((f"{tenant_id}:m:{windows.minute}", 120), (f"{tenant_id}:d:{windows.day}", 2 * 86400),
                             (f"{tenant_id}:p:{windows.period}", 32 * 86400)):
                self._bump(key, -1, ttl)
            if tokens:
                self._bump(f"{tenant_id}:t:{windows.period}", -tokens, 32 * 86400)


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

    async def refund(self, tenant_id: uuid.UUID, windows: Windows, *, tokens: int = 0) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for window in (f"m:{windows.minute}", f"d:{windows.day}", f"p:{windows.period}"):
                pipe.decrby(f"kariz:usage:{tenant_id}:{window}", 1)
            if tokens:
                pipe.decrby(f"kariz:usage:{tenant_id}:t:{windows.period}", tokens)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()


_UPSERT = sa.text(
    "INSERT INTO usage_counters AS u (tenant_id, window_key, count) "
    "SELECT * FROM unnest(CAST(:tenants AS uuid[]), CAST(:keys AS text[]), CAST(:counts AS bigint[])) "
    "ON CONFLICT (tenant_id, window_key) DO UPDATE SET count = u.count + EXCLUDED.count, updated_at = now() "
    "RETURNING tenant_id, window_key, count"
)
_LOAD = sa.text("SELECT window_key, count FROM usage_counters WHERE tenant_id = :t AND window_key = ANY(:keys)")


class PostgresUsageCounter(UsageCounter):
    """Daily and billing-period counts in PostgreSQL, the per-minute window in this process.

    A request costs a dictionary update: counts are added to PostgreSQL in batches (one UPSERT for
    every tenant and window touched, at most every `flush_seconds` or `flush_pending` requests, and
    at shut-down), and each batch reads back the totals every process has written. A crash loses at
    most the last batch; a restart loses nothing that was flushed."""

    def __init__(self, session_factory: Any, *, flush_seconds: float = 1.0, flush_pending: int = 200) -> None:
        self._factory = session_factory
        self._flush_seconds = flush_seconds
        self._flush_pending = flush_pending
        self._minute = MemoryUsageCounter()
        self._stored: dict[tuple[uuid.UUID, str], int] = {}  # totals in PostgreSQL at the last flush
        self._pending: dict[tuple[uuid.UUID, str], int] = {}  # counted here, not written yet
        self._pending_requests = 0
        self._last_flush = time.monotonic()
        self._lock = asyncio.Lock()

    @staticmethod
    def _keys(w: Windows) -> tuple[str, str, str]:
        return f"d:{w.day}", f"p:{w.period}", f"t:{w.period}"

    async def _load(self, tenant_id: uuid.UUID, keys: tuple[str, ...]) -> None:
        async with self._factory() as session:
            rows = (await session.execute(_LOAD, {"t": tenant_id, "keys": list(keys)})).all()
            await session.commit()
        found = dict(rows)
        for key in keys:
            self._stored[(tenant_id, key)] = int(found.get(key, 0))
        if len(self._stored) > 100_000:  # windows of past days: drop what is not current
            current = set(keys)
            self._stored = {k: v for k, v in self._stored.items() if k[1] in current or k in self._pending}

    async def flush(self) -> None:
        """Write the pending counts (one statement) and refresh the totals from what it returns."""
        async with self._lock:
            batch = {k: v for k, v in self._pending.items() if v}
            self._pending.clear()
            self._pending_requests = 0
            self._last_flush = time.monotonic()
            if not batch:
                return
            params = {"tenants": [k[0] for k in batch], "keys": [k[1] for k in batch], "counts": list(batch.values())}
            try:
                async with self._factory() as session:
                    rows = (await session.execute(_UPSERT, params)).all()
                    await session.commit()
            except Exception:  # the database is away: keep the counts for the next try
                log.warning("usage counts could not be written; kept for the next flush", exc_info=True)
                for key, value in batch.items():
                    self._pending[key] = self._pending.get(key, 0) + value
                return
            for tenant_id, key, count in rows:
                self._stored[(tenant_id, key)] = int(count)

    def _due(self) -> bool:
        return (self._pending_requests >= self._flush_pending
                or time.monotonic() - self._last_flush >= self._flush_seconds)

    async def hit(self, tenant_id: uuid.UUID, limits: PlanLimits, *, tokens: int = 0,
                  count_request: bool = True) -> UsageSnapshot:
        w = windows_at(datetime.now(UTC), limits.billing_anchor_day)
        keys = self._keys(w)
        if (tenant_id, keys[0]) not in self._stored or (tenant_id, keys[1]) not in self._stored:
            await self._load(tenant_id, keys)
        n = 1 if count_request else 0
        minute = (await self._minute.hit(tenant_id, limits, count_request=count_request)).minute
        for key, by in zip(keys, (n, n, tokens), strict=True):
            if by:
                self._pending[(tenant_id, key)] = self._pending.get((tenant_id, key), 0) + by
        self._pending_requests += n
        if self._due():
            await self.flush()
        day, period, tok = (self._stored.get((tenant_id, k), 0) + self._pending.get((tenant_id, k), 0) for k in keys)
        return UsageSnapshot(limits, w, minute=minute, day=day, period_requests=period, period_tokens=tok)

    async def refund(self, tenant_id: uuid.UUID, windows: Windows, *, tokens: int = 0) -> None:
        await self._minute.refund(tenant_id, windows)
        day, period, tok = self._keys(windows)
        for key, by in ((day, 1), (period, 1), (tok, tokens)):
            if by:
                self._pending[(tenant_id, key)] = self._pending.get((tenant_id, key), 0) - by

    async def close(self) -> None:
        await self.flush()


def make_usage_counter(redis_url: str | None, session_factory: Any | None = None) -> UsageCounter:
    """Redis when configured, else PostgreSQL through `session_factory`, else process memory."""
    if redis_url:
        return RedisUsageCounter(redis_url)
    if session_factory is not None:
        return PostgresUsageCounter(session_factory)
    return MemoryUsageCounter()
