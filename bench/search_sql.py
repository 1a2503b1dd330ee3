"""Search benchmark at SQL level: p50/p95 of identifier, keyword and filter-only queries at 1M records.

Builds a collection of `--rows` synthetic fasteners (the same generator as bench/ingest_csv.py,
loaded through `ingest_file`), then for each query kind measures
  * sql     - the statements `core.search.sql` produces (`run_sql`: the page with its records'
              fields, then a count or estimate only when the page cannot tell the total), run directly;
  * search  - `core.search.search()` end to end without its cache (classification, filter typing,
              collection lookup, the same statements, response building);
and prints p50/p95 in milliseconds and the ratio search/sql.

    .venv/bin/python bench/search_sql.py [--rows 1000000] [--queries 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest_csv import synthetic_csv  # noqa: E402
from bench.percentiles import pct  # noqa: E402
from core.db.embedded import ensure_database, start_embedded_server  # noqa: E402
from core.db.engine import make_async_engine, make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.db.urls import libpq_url  # noqa: E402
from core.ingestion import ingest_file  # noqa: E402
from core.search import SearchRequest, search, sql  # noqa: E402
from core.search.classify import classify_query  # noqa: E402
from core.search.filters import default_filter_sort, parse_filters, parse_sort  # noqa: E402
from core.search.service import Fields, page_total, search_fields  # noqa: E402
from core.tenants.service import create_tenant  # noqa: E402

KEYWORDS = [
    "hex head bolt stainless",
    "socket cap screw titanium",
    "brass washer",
    "threaded rod zinc",
    "nylon anchor",
    "wood screw",
    "rivet M6",
    "stainless steel A4 nut",
]
FILTERS = [
    {"country": "DE", "in_stock": True},
    {"price_eur_max": 1},
    {"material": "Brass", "price_eur_min": 40},
    {"standard": "ISO 4017,DIN 933", "weight_g_lt": 5},
    {"released_min": "2026-06-01", "country_in": "JP"},
]


class NoCache:
    async def get(self, key: str) -> None:
        return None

    async def set(self, key: str, value: Any, ttl: int) -> None:
        return None


def requests(kind: str, n: int, part_numbers: list[str], rnd: random.Random) -> list[SearchRequest]:
    if kind == "identifier":
        return [SearchRequest(query=rnd.choice(part_numbers)) for _ in range(n)]
    if kind == "keyword":
        # full text: `auto` would make keyword searches hybrid (a query embedding and a vector search
        # against the settings' vector store), which the SQL side does not run
        return [SearchRequest(query=rnd.choice(KEYWORDS), search_mode="fulltext") for _ in range(n)]
    return [SearchRequest(filters=rnd.choice(FILTERS)) for _ in range(n)]


async def run_sql(session: AsyncSession, ids: tuple, fields: Fields, req: SearchRequest) -> None:
    """The statements `core.search.search` runs for `req` (full text), without anything around them:
    the page with its records' fields, then a count or estimate only when the page cannot tell the
    total (`page_total`, the same decision search() makes)."""
    tenant_id, collection_id, generation = ids
    plan = classify_query(req.query)
    conditions = parse_filters(req.filters, fields.catalog, fields.indexed)
    sort = parse_sort(req.sort, fields.catalog, fields.indexed)
    params = sql.base_params(tenant_id, collection_id, generation)
    query_plan = plan if plan.text else None
    if query_plan is None and sort is None:
        sort = default_filter_sort(conditions)
    for any_word in (False, True):
        page = sql.page(query_plan, conditions, sort, params, limit=req.limit, offset=0, any_word=any_word)
        page = sql.with_hits(page, sort, relevance=query_plan is not None)
        found = (await session.execute(page.clause(), page.params)).all()
        if found or query_plan is None or query_plan.query_type != "keyword":
            break
    await page_total(session, found, query_plan, conditions, sort, params, limit=req.limit, offset=0, any_word=any_word)


async def bench(url: str, tenant_id: uuid.UUID, collection: str, n: int) -> None:
    engine = make_async_engine(url, pool_size=2)
    rnd = random.Random(11)
    async with AsyncSession(engine) as session:
        row = (await session.execute(sql.COLLECTION, {"tenant": tenant_id, "name": collection})).one()
        ids = (tenant_id, row.id, row.active_generation)
        catalog = await search_fields(session, row.id, row.active_generation, row.version)
        part_numbers = list(
            (
                await session.execute(
                    sa.text(
                        "SELECT collection_data ->> 'part_number' FROM records TABLESAMPLE SYSTEM (1) LIMIT 1000"
                    )
                )
            ).scalars()
        )
        for kind in ("identifier", "keyword", "filter-only"):
            reqs = requests(kind, n, part_numbers, rnd)
            for req in reqs[:10]:  # warm up
                await run_sql(session, ids, catalog, req)
            sql_ms, search_ms, hits = [], [], []
            for req in reqs:
                t0 = time.perf_counter()
                await run_sql(session, ids, catalog, req)
                sql_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                response = await search(session, tenant_id, collection, req, cache=NoCache())
                search_ms.append((time.perf_counter() - t0) * 1000)
                hits.append(len(response.results))
            print(
                f"{kind:12s} sql p50 {pct(sql_ms, 50):6.2f} ms  p95 {pct(sql_ms, 95):6.2f} ms | "
                f"search() p50 {pct(search_ms, 50):6.2f} ms  p95 {pct(search_ms, 95):6.2f} ms | "
                f"search/sql p50 {statistics.median(search_ms) / statistics.median(sql_ms):.2f} | "
                f"mean results {statistics.mean(hits):.1f}",
                flush=True,
            )
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kariz-bench-search-") as tmp:
        workdir = Path(tmp)
        server = args.database_url or start_embedded_server(workdir / "pg")
        url = ensure_database(server, f"kariz_bench_search_{uuid.uuid4().hex[:8]}")
        upgrade(url)
        csv_path = workdir / "synthetic.csv"
        synthetic_csv(csv_path, args.rows)
        engine = make_sync_engine(url)
        started = time.perf_counter()
        with Session(engine) as s:
            tenant_id = create_tenant(s, f"bench-{uuid.uuid4().hex[:8]}").id
            result = ingest_file(
                s,
                tenant_id=tenant_id,
                collection_name="fasteners",
                data=csv_path,
                entity_type="fastener",
                max_bytes=1 << 40,
            )
            s.commit()
        engine.dispose()
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(
                "VACUUM ANALYZE records"
            )  # the steady state: GIN pending lists merged, statistics fresh
        print(f"loaded {result.accepted:,} records in {time.perf_counter() - started:.0f} s", flush=True)
        asyncio.run(bench(url, tenant_id, "fasteners", args.queries))


if __name__ == "__main__":
    main()
