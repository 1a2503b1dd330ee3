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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.app_in_process import app_in_process  # noqa: E402
from bench.percentiles import print_against_baseline  # noqa: E402
from core.usage.counters import MemoryUsageCounter, PostgresUsageCounter, UsageSnapshot  # noqa: E402


class NoCounting(MemoryUsageCounter):
    """The baseline: answers a snapshot, counts nothing."""

    async def hit(self, tenant_id, limits, *, tokens=0, count_request=True) -> UsageSnapshot:  # noqa: ANN001
        return await super().hit(tenant_id, limits, tokens=0, count_request=False)


async def run(requests: int, rounds: int) -> None:
    async with app_in_process("kariz-bench-usage-") as bench:
        app, http, headers = bench.app, bench.http, bench.headers
        counters = {
            "no counting": NoCounting(),
            "PostgreSQL (batched UPSERT)": PostgresUsageCounter(bench.sessions),
            "memory (reference)": MemoryUsageCounter(),
        }
        times: dict[str, list[float]] = {name: [] for name in counters}
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
    print(f"{requests} requests x {rounds} rounds, GET /api/v1/export/active in-process (median per request)")
    print_against_baseline(times, "no counting", ("counter", "µs per request", "vs no counting"), "µs", 0, 3)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.rounds))


if __name__ == "__main__":
    main()
