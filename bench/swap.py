"""Benchmark: blue-green swap latency at 10k and 1M records a generation, and search p95 during swaps.

    .venv/bin/python bench/swap.py [--large 1000000] [--small 10000] [--rounds 20] [--seconds 8] [--readme]

Seeds, with `generate_series`, two collections on an embedded PostgreSQL 18 whose generations 1
(active) and 2 (staging) each hold `--small` / `--large` records marked indexed, with a vector
collection per generation and an alias. `core.generations.swap` (the API's and Dagster's swap) is
timed swapping back and forth (the archived generation is put back to staging between rounds,
untimed), on pgvector (alias moved inside the transaction) and on Qdrant local mode (alias moved
beside it). The baseline, in the same run, is the design the swap avoids: archiving the old
generation's records row by row inside the swap transaction (timed, then rolled back).

Search p95: `core.search.service.search` (full text, cache off, a different query each time) on the
large collection from concurrent tasks, first with nothing else running, then while another
thread swaps the collection back and forth without pause. `--readme` appends the figures to
bench/README.md under "## Blue-green swap".
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.percentiles import pct  # noqa: E402
from core.db.embedded import ensure_database, start_embedded_server, stop_embedded_server  # noqa: E402
from core.db.engine import make_async_engine, make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.generations import swap  # noqa: E402
from core.search.request import SearchRequest  # noqa: E402
from core.search.service import search  # noqa: E402
from core.vectors.base import VectorIndex, vector_alias_name, vector_collection_name  # noqa: E402
from core.vectors.pgvector import PgVectorIndex  # noqa: E402
from core.vectors.qdrant import QdrantIndex  # noqa: E402

SEED_SQL = """
INSERT INTO records (id, tenant_id, collection_id, generation, name, record_type, collection_data,
                     source_type, status, embedding_status, content_hash, search_text, identifiers)
SELECT gen_random_uuid(), :tenant, :collection, :generation,
       'Stainless hex bolt M' || (4 + g % 20) || ' lot ' || g, 'fastener',
       jsonb_build_object('part_number', 'SS-' || g, 'generation', :generation, 'price_eur', (g % 10000) / 100.0),
       'bench', 'active', 'indexed', md5(:generation || ':' || g),
       to_tsvector('simple', 'Stainless hex bolt lot ' || g), ARRAY['SS-' || g]
FROM generate_series(1, :n) AS g
"""


class NoCache:
    """Every search computed (the benchmark measures the database, not the cache)."""

    async def get(self, key: str) -> dict[str, Any] | None:
        return None

    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        return None


def seed(engine: sa.Engine, sizes: dict[str, int]) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    """One tenant, one collection per size with generations 1 (active) and 2 (staging) filled."""
    tenant = uuid.uuid4()
    collections = {}
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tenants (id, name, entity_limit, monthly_request_limit, monthly_token_limit,"
                " per_minute_limit, daily_limit) VALUES (:id, 'bench', 100000000, 1, 1, 1, 1)"
            ),
            {"id": tenant},
        )
    for name, n in sizes.items():
        collection = uuid.uuid4()
        collections[name] = collection
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO collections (id, tenant_id, name, active_generation) VALUES (:id, :t, :n, 1)"
                ),
                {"id": collection, "t": tenant, "n": name},
            )
            for number, status in ((1, "active"), (2, "staging")):
                conn.execute(
                    sa.text(
                        "INSERT INTO generations (id, tenant_id, collection_id, number, status, record_count)"
                        " VALUES (:id, :t, :c, :g, :s, :n)"
                    ),
                    {"id": uuid.uuid4(), "t": tenant, "c": collection, "g": number, "s": status, "n": n},
                )
                t0 = time.perf_counter()
                conn.execute(
                    sa.text(SEED_SQL),
                    {"tenant": tenant, "collection": collection, "generation": number, "n": n},
                )
                print(
                    f"  seeded {name} generation {number}: {n:,} records in {time.perf_counter() - t0:.1f} s"
                )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE records"))
    return tenant, collections


def prepare_vectors(index: VectorIndex, tenant: uuid.UUID, collections: dict[str, uuid.UUID]) -> None:
    for collection in collections.values():
        for number in (1, 2):
            index.create_collection(vector_collection_name(tenant, collection, number), 384)
        index.set_alias(vector_alias_name(tenant, collection), vector_collection_name(tenant, collection, 1))


def restage(engine: sa.Engine, collection: uuid.UUID) -> None:
    """Put the generation the last swap archived back to staging (untimed, between rounds)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE generations SET status = 'staging', archived_at = NULL "
                "WHERE collection_id = :c AND status = 'archived'"
            ),
            {"c": collection},
        )


def time_swaps(
    engine: sa.Engine, index: VectorIndex, tenant: uuid.UUID, name: str, collection: uuid.UUID, rounds: int
) -> list[float]:
    """Milliseconds per `swap` call (lock, readiness check, generation flips, alias move, commit)."""
    times = []
    for _ in range(rounds):
        with Session(engine) as session:
            t0 = time.perf_counter()
            swap(session, tenant, name, index)
            times.append((time.perf_counter() - t0) * 1000)
        restage(engine, collection)
    return times


def time_row_archiving(engine: sa.Engine, collection: uuid.UUID) -> float:
    """The avoided design: archive the active generation's record rows inside the swap (rolled back)."""
    with engine.connect() as conn:
        active = conn.execute(
            sa.text("SELECT active_generation FROM collections WHERE id = :c"), {"c": collection}
        ).scalar_one()
        conn.commit()
        t0 = time.perf_counter()
        with conn.begin() as tx:
            conn.execute(
                sa.text(
                    "UPDATE records SET status = 'archived' WHERE collection_id = :c AND generation = :g"
                ),
                {"c": collection, "g": active},
            )
            elapsed = (time.perf_counter() - t0) * 1000
            tx.rollback()
    return elapsed


async def search_load(
    url: str, tenant: uuid.UUID, name: str, seconds: float, n_large: int, tasks: int = 4
) -> tuple[list[float], int, set[int]]:
    """Search latencies (ms) from `tasks` concurrent loops for `seconds`; failures; generations seen."""
    engine = make_async_engine(url, pool_size=tasks)
    latencies: list[float] = []
    failures = 0
    seen: set[int] = set()
    stop = time.perf_counter() + seconds
    rng = random.Random(7)

    async def loop() -> None:
        nonlocal failures
        while time.perf_counter() < stop:
            query = f"hex bolt lot {rng.randint(1, n_large)}"
            t0 = time.perf_counter()
            try:
                async with AsyncSession(engine) as session:
                    response = await search(
                        session, tenant, name, SearchRequest(query=query, limit=10), cache=NoCache()
                    )
                latencies.append((time.perf_counter() - t0) * 1000)
                generations = {hit.collection_data["generation"] for hit in response.results}
                if len(generations) > 1:
                    failures += 1  # a mixed answer counts as a failure
                seen.update(generations)
            except Exception as exc:
                failures += 1
                print(f"  search failed: {type(exc).__name__}: {exc}")

    await asyncio.gather(*(loop() for _ in range(tasks)))
    await engine.dispose()
    return latencies, failures, seen


def swap_continuously(
    url: str, tenant: uuid.UUID, name: str, collection: uuid.UUID, ready: Any, stop: Any, out: Any
) -> None:
    """Child process: swap the collection back and forth until `stop` is set; latencies into `out`."""
    engine = make_sync_engine(url, pool_size=2)
    index = PgVectorIndex(url, pool_size=2)
    time_swaps(engine, index, tenant, name, collection, 1)  # warm-up
    ready.set()
    times: list[float] = []
    while not stop.is_set():
        times.extend(time_swaps(engine, index, tenant, name, collection, 1))
    out.put(times)
    index.close()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args()
    sizes = {"small": args.small, "large": args.large}

    work = Path(tempfile.mkdtemp(prefix="kariz-bench-swap-"))
    try:
        server = start_embedded_server(work / "pg")
        url = ensure_database(server, "bench_swap")
        upgrade(url)
        engine = make_sync_engine(url, pool_size=4)
        print("seeding")
        tenant, collections = seed(engine, sizes)

        pg_index = PgVectorIndex(url)
        qdrant_index = QdrantIndex(":memory:")
        rows = []
        for backend, index in (("pgvector", pg_index), ("qdrant local", qdrant_index)):
            prepare_vectors(index, tenant, collections)
            for name, n in sizes.items():
                time_swaps(engine, index, tenant, name, collections[name], 2)  # warm-up
                times = time_swaps(engine, index, tenant, name, collections[name], args.rounds)
                rows.append((backend, n, statistics.median(times), pct(times, 95), max(times)))
                print(
                    f"  swap {backend} {n:,}: median {statistics.median(times):.1f} ms, "
                    f"p95 {pct(times, 95):.1f} ms"
                )
        baseline = {n: time_row_archiving(engine, collections[name]) for name, n in sizes.items()}
        for n, ms in baseline.items():
            print(f"  baseline (archive rows in the swap) {n:,}: {ms:.0f} ms")

        # search p95 on the large collection, without and with swaps running
        idle, idle_failures, idle_seen = asyncio.run(
            search_load(url, tenant, "large", args.seconds, args.large)
        )
        # the swapper runs in its own process, as the API or a Dagster run would (no shared GIL)
        context = multiprocessing.get_context("spawn")
        ready, stop, results = context.Event(), context.Event(), context.Queue()
        swapper = context.Process(
            target=swap_continuously, args=(url, tenant, "large", collections["large"], ready, stop, results)
        )
        swapper.start()
        try:
            if not ready.wait(timeout=300):
                raise RuntimeError("the swapping process did not start")
            busy, busy_failures, busy_seen = asyncio.run(
                search_load(url, tenant, "large", args.seconds, args.large)
            )
        finally:
            stop.set()
            during_swaps = results.get(timeout=120)
            swapper.join()
        print(
            f"  search idle: {len(idle)} searches, p50 {pct(idle, 50):.1f} ms, p95 {pct(idle, 95):.1f} ms"
        )
        print(
            f"  search during {len(during_swaps)} swaps: {len(busy)} searches, p50 {pct(busy, 50):.1f} ms, "
            f"p95 {pct(busy, 95):.1f} ms, generations seen {sorted(busy_seen)}, failures {busy_failures}"
        )

        table = render(
            rows, baseline, sizes, idle, busy, during_swaps, idle_failures + busy_failures, busy_seen
        )
        print()
        print(table)
        if args.readme:
            write_readme(table)
        pg_index.close()
        qdrant_index.close()
        engine.dispose()
    finally:
        stop_embedded_server(work / "pg")
        shutil.rmtree(work, ignore_errors=True)


def render(
    rows: list[tuple],
    baseline: dict[int, float],
    sizes: dict[str, int],
    idle: list[float],
    busy: list[float],
    during_swaps: list[float],
    failures: int,
    seen: set[int],
) -> str:
    lines = [
        "| vector backend | records per generation | swap median ms | swap p95 ms | swap max ms |"
        " baseline: archive rows in the swap, ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend, n, median, p95, worst in rows:
        lines.append(f"| {backend} | {n:,} | {median:.1f} | {p95:.1f} | {worst:.1f} | {baseline[n]:,.0f} |")
    lines += [
        "",
        "| full-text search on the large collection (4 concurrent tasks) | searches | p50 ms | p95 ms |",
        "| --- | ---: | ---: | ---: |",
        f"| no swap running | {len(idle)} | {pct(idle, 50):.1f} | {pct(idle, 95):.1f} |",
        f"| while {len(during_swaps)} swaps ran back to back (pgvector; swap p95 {pct(during_swaps, 95):.1f} ms)"
        f" | {len(busy)} | {pct(busy, 50):.1f} | {pct(busy, 95):.1f} |",
        "",
        f"Failed or mixed-generation searches: {failures}; generations answered during the swaps: "
        f"{sorted(seen)}.",
    ]
    return "\n".join(lines)


def write_readme(table: str) -> None:
    readme = REPO / "bench" / "README.md"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"  # re-read: others append too
    section = (
        "## Blue-green swap\n\n`.venv/bin/python bench/swap.py --readme` — `core.generations.swap` on "
        "generations seeded with generate_series (all records indexed), swapped back and forth; the "
        "baseline is the avoided design that archives the old generation's record rows inside the swap "
        f"(same run, rolled back).\n\nMeasured {time.strftime('%Y-%m-%d')}, 2 cores, embedded PostgreSQL 18 "
        "(shared machine, other suites running):\n\n" + table + "\n"
    )
    if "## Blue-green swap" in text:
        head, _, rest = text.partition("## Blue-green swap")
        tail = rest.split("\n## ", 1)
        text = head + section + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    readme.write_text(text)


if __name__ == "__main__":
    main()
