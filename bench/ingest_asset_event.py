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
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dagster as dg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker  # noqa: E402

from api import asset_events  # noqa: E402
from api.app import create_app  # noqa: E402
from bench.percentiles import print_against_baseline  # noqa: E402
from core.db.embedded import ensure_database, start_embedded_server  # noqa: E402
from core.db.engine import make_async_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.db.urls import dagster_url  # noqa: E402
from core.settings import Settings, override_settings  # noqa: E402


def dagster_instance(server_url: str, home: Path) -> dg.DagsterInstance:
    """A Dagster instance on PostgreSQL storage, like the stack's `dagster.yaml`."""
    home.mkdir(parents=True, exist_ok=True)
    url = dagster_url(ensure_database(server_url, "kariz_dagster"))
    (home / "dagster.yaml").write_text(f"storage:\n  postgres:\n    postgres_url: {url}\ntelemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(home))


async def run(requests: int, rounds: int, rows: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kariz-bench-asset-event-"))
    server = start_embedded_server(folder / "pg")
    url = ensure_database(server, "kariz_bench")
    upgrade(url)
    instance = dagster_instance(server, folder / "dagster")
    settings = Settings(env="test", data_dir=folder / "data", database_url=url,
                        jwt_secret="bench-jwt-secret-at-least-32-bytes-long",
                        connector_encryption_key="pgyQWUDq1bxcIT3XzM5eOeFf3gqRWmtk0fzC4jHKu0M=",
                        default_per_minute_limit=10**9, default_daily_limit=10**9, default_monthly_requests=10**9)
    override_settings(settings)
    engine = make_async_engine(url, pool_size=5)
    app = create_app(settings, session_factory=async_sessionmaker(engine, expire_on_commit=False))
    for hook in app.on_startup:
        await hook(app)
    modes = {"without reporting (baseline)": None, "with the runless materialization": instance}
    times: dict[str, list[float]] = {name: [] for name in modes}
    serial = itertools.count()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        name = f"bench-{uuid.uuid4().hex[:6]}"
        reg = await http.post("/api/v1/register", json={"name": name, "email": f"{name}@example.com"})
        headers = {"Authorization": f"Bearer {reg.json()['data']['apiKey']}"}

        async def ingest() -> None:
            batch = [{"name": f"Bolt {next(serial)}", "price": 0.1} for _ in range(rows)]
            response = await http.post("/api/v1/ingest/bench?entity_type=part", json=batch, headers=headers)
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
    for hook in app.on_shutdown:
        await hook(app)
    await engine.dispose()
    instance.dispose()
    print(f"{requests} requests x {rounds} rounds, POST /api/v1/ingest/bench with {rows} new records, in-process")
    header = ("ingestion", "ms per request (median of rounds)", "vs baseline")
    print_against_baseline(times, "without reporting (baseline)", header, "ms", 1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.rounds, args.rows))


if __name__ == "__main__":
    main()
