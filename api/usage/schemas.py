"""Views of `GET /usage`."""

from __future__ import annotations

import msgspec

from api.envelopes import Envelope, named


class Meter(msgspec.Struct, rename="camel"):
    """How much of one quota is used, and what is left."""

    used: int
    limit: int
    remaining: int
    percent_used: float

    @classmethod
    def of(cls, used: int, limit: int) -> Meter:
        return cls(used, limit, max(0, limit - used), round(100.0 * used / limit, 2) if limit else 100.0)


class WindowMeter(Meter, rename="camel"):
    """A quota over a window that resets."""

    resets_in_seconds: int


class Period(msgspec.Struct):
    start: str
    end: str


class UsageView(msgspec.Struct, rename="camel"):
    tenant_id: str
    period: Period
    requests: Meter
    tokens: Meter
    rate_limit: WindowMeter
    daily: WindowMeter


UsageResponse = named(Envelope[UsageView], "UsageResponse")
