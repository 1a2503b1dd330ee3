"""How often one client address may sign up (`POST /register`), so nobody mints tenants to dodge
per-tenant limits. Counted per API process in fixed hourly windows (behind a load balancer each
process allows the limit, and Redis-backed counting would share it)."""

from __future__ import annotations

import time

from core.errors import Forbidden, RateLimited
from core.settings import Settings


class RegistrationGate:
    """`check(address)` raises when registration is closed or the address used up its hour."""

    def __init__(self, settings: Settings) -> None:
        self.open = settings.open_registration
        self.per_hour = settings.register_per_hour_limit
        self._counts: dict[tuple[str, int], int] = {}

    def check(self, address: str | None) -> None:
        """Forbidden (403) with registration off; RateLimited (429, Retry-After) past the hourly limit."""
        if not self.open:
            raise Forbidden("self-service registration is turned off here (KARIZ_OPEN_REGISTRATION=false); "
                            "ask an operator for a tenant")
        now = int(time.time())
        hour = now // 3600
        if len(self._counts) > 10_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] == hour}
        key = (address or "unknown", hour)
        if self._counts.get(key, 0) >= self.per_hour:
            raise RateLimited(f"too many sign-ups from this address; at most {self.per_hour} an hour",
                              retry_after=max(1, 3600 - now % 3600))
        self._counts[key] = self._counts.get(key, 0) + 1
