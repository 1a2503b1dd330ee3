"""Per-request cost of counting usage in PostgreSQL, beside the same requests with no counting.

Runs the real app in-process on an embedded PostgreSQL in a temporary folder, registers a tenant and
sends `--requests` authenticated `GET /api/v1/export/active` calls three ways, interleaved over
`--rounds`: no counting (a counter that counts nothing), the PostgreSQL counter (batched UPSERTs),
and, for reference, the in-memory counter. Prints the median per-request time of each and the
difference to no counting.

    .venv/bin/python bench/usage_counting.py [--requests 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker  # noqa: E402

from api.app import create_app  # noqa: E402
from bench.percentiles import print_against_baseline  # noqa: E402
from core.db.embedded import ensure_database, start_embedded_server  # noqa: E402
from core.db.engine import make_async_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.settings import Settings, override_settings  # noqa: E402
from core.usage.counters import MemoryUsageCounter, PostgresUsageCounter, UsageSnapshot  # noqa: E402


class NoCounting(MemoryUsageCounter):
    """The baseline: answers a snapshot, counts nothing."""

    async def hit(self, tenant_id, limits, *, tokens=0, count_request=True) -> UsageSnapshot:  # noqa: ANN001
        return await super().hit(tenant_id, limits, tokens=0, count_request=False)


async def run(requests: int, rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kariz-bench-usage-"))
    url = ensure_database(start_embedded_server(folder / "pg"), "kariz_bench")
    upgrade(url)
    settings = Settings(env="test", data_dir=folder / "data", database_url=url,
                        jwt_secret="bench-jwt-secret-at-least-32-bytes-long",
                        connector_encryption_key="pgyQWUDq1bxcIT3XzM5eOeFf3gqRWmtk0fzC4jHKu0M=",
                        default_per_minute_limit=10**9, default_daily_limit=10**9, default_monthly_requests=10**9)
    override_settings(settings)
    engine = make_async_engine(url, pool_size=5)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    app = create_app(settings, session_factory=factory)
    for hook in app.on_startup:
        await hook(app)
    counters = {"no counting": NoCounting(), "PostgreSQL (batched UPSERT)": PostgresUsageCounter(factory),
                "memory (reference)": MemoryUsageCounter()}
    times: dict[str, list[float]] = {name: [] for name in counters}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        name = f"bench-{uuid.uuid4().hex[:6]}"
        reg = await http.post("/api/v1/register", json={"name": name, "email": f"{name}@example.com"})
        headers = {"Authorization": f"Bearer {reg.json()['data']['apiKey']}"}
        for _ in range(rounds):
            for label, counter in counters.items():
                app.state.usage = counter
                for _ in range(50):  # warm-up (and the counter's first load)
                    await http.get("/api/v1/export/active", headers=headers)
                started = time.perf_counter()
                for _ in range(requests):
                    response = await http.get("/api/v1/export/active", headers=headers)
                    assert response.status_code == 200, response.text
                times[label].append((time.perf_counter() - started) / requests * 1e6)
    await counters["PostgreSQL (batched UPSERT)"].close()
    app.state.usage = MemoryUsageCounter()
    for hook in app.on_shutdown:
        await hook(app)
    await engine.dispose()
    print(f"{requests} requests x {rounds} rounds, GET /api/v1/export/active in-process (median per request)")
    print_against_baseline(times, "no counting", ("counter", "µs per request", "vs no counting"), "µs", 0, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.rounds))


if __name__ == "__main__":
    main()
