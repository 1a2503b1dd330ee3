"""What reporting a `collection_records` materialization to Dagster costs a synchronous ingestion.

Runs the real app in-process on an embedded PostgreSQL in a temporary folder, with a Dagster instance
whose storage is a `kariz_dagster` database on that same server (as `kariz up` sets it up), and sends
`POST /api/v1/ingest/{collection}` with `--rows` new records per request, interleaved over `--rounds`:
without reporting (no Dagster instance; the baseline in the same run) and with it (the runless
materialization written after the commit). Prints the median per-request time of each.

    .venv/bin/python bench/ingest_asset_event.py [--requests 100] [--rounds 3] [--rows 20]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dagster as dg  # noqa: E402

from api import asset_events  # noqa: E402
from bench.app_in_process import app_in_process  # noqa: E402
from bench.percentiles import print_against_baseline  # noqa: E402
from core.db.embedded import ensure_database  # noqa: E402
from core.db.urls import dagster_url  # noqa: E402


def dagster_instance(server_url: str, home: Path) -> dg.DagsterInstance:
    """A Dagster instance on PostgreSQL storage, like the stack's `dagster.yaml`."""
    home.mkdir(parents=True, exist_ok=True)
    url = dagster_url(ensure_database(server_url, "kariz_dagster"))
    (home / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url: {url}\ntelemetry:\n  enabled: false\n"
    )
    return dg.DagsterInstance.from_config(str(home))


async def run(requests: int, rounds: int, rows: int) -> None:
    async with app_in_process("kariz-bench-asset-event-") as bench:
        instance = dagster_instance(bench.server_url, bench.folder / "dagster")
        modes = {"without reporting (baseline)": None, "with the runless materialization": instance}
        times: dict[str, list[float]] = {name: [] for name in modes}
        serial = itertools.count()

        async def ingest() -> None:
            batch = [{"name": f"Bolt {next(serial)}", "price": 0.1} for _ in range(rows)]
            response = await bench.http.post(
                "/api/v1/ingest/bench?entity_type=part", json=batch, headers=bench.headers
            )
            assert response.status_code == 200, response.text

        for _ in range(rounds):
            for label, target in modes.items():
                asset_events.use_instance(target)
                for _ in range(10):  # warm-up
                    await ingest()
                started = time.perf_counter()
                for _ in range(requests):
                    await ingest()
                times[label].append((time.perf_counter() - started) / requests * 1e3)
        reported = instance.fetch_materializations(dg.AssetKey("collection_records"), limit=1).records
        assert reported, "no materialization reached the Dagster instance"
    instance.dispose()
    print(
        f"{requests} requests x {rounds} rounds, POST /api/v1/ingest/bench with {rows} new records, in-process"
    )
    header = ("ingestion", "ms per request (median of rounds)", "vs baseline")
    print_against_baseline(times, "without reporting (baseline)", header, "ms", 1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.rounds, args.rows))


if __name__ == "__main__":
    main()
