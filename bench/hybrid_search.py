"""Hybrid search latency at 100k and 1M records (pgvector) and 100k (Qdrant local mode), with the
full-text-only latency of the same queries beside it, in the same run.

Records are Debian packages (`apt-cache dumpavail`, ~63k), cycled with a numbered name suffix up to
the size wanted, ingested through `ingest_records` into a fresh embedded PostgreSQL. Vectors: a pool
of real MiniLM embeddings (of the first `--pool` packages' embedding texts) is computed, and record
i gets pool vector `i % pool` plus Gaussian noise (sigma `--noise`), renormalised — computing 1M
real embeddings takes hours on 2 cores, so the vectors are SYNTHETIC (realistically clustered, but
not the embedding of each record's own text). They are loaded with the ANN index deferred and then
built (HNSW m=16, ef_construction=64 on pgvector; Qdrant local mode searches by brute force).

Queries: distinct keyword queries (three words of random package summaries), each run through
`core.search.search` with `search_mode` `fulltext` and `hybrid`, alternating, no result cache, and
the query-embedding memo cleared before each hybrid query (so the model's time is included).

    .venv/bin/python bench/hybrid_search.py [--sizes 100000 1000000] [--qdrant-size 100000]
        [--queries 200] [--no-readme]

Figures are appended to bench/README.md under "Hybrid search".
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.embed_pipeline import append_to_readme, debian_packages, fresh_database  # noqa: E402
from bench.percentiles import pct_interpolated as pct  # noqa: E402
from core.db.engine import make_async_engine, make_sync_engine  # noqa: E402
from core.embeddings.local_minilm import LocalMiniLMProvider, available_cores  # noqa: E402
from core.embeddings.text import build_embedding_text  # noqa: E402
from core.ingestion import ingest_records  # noqa: E402
from core.search import SearchRequest, hybrid, search  # noqa: E402
from core.settings import Settings, override_settings  # noqa: E402
from core.tenants.service import create_tenant  # noqa: E402
from core.vectors.base import VectorIndex, vector_collection_name  # noqa: E402
from core.vectors.factory import get_vector_index  # noqa: E402
from core.vectors.payloads import build_point_payload  # noqa: E402

UPSERT_CHUNK = 10_000


class NoCache:
    """A search cache that never answers: every query is computed."""

    async def get(self, key: str) -> dict[str, Any] | None:
        return None

    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        return None


def records(packages: list[dict[str, Any]], size: int) -> Iterator[dict[str, Any]]:
    for i in range(size):
        p = packages[i % len(packages)]
        round_ = i // len(packages)
        yield {**p, "name": p["name"] if round_ == 0 else f"{p['name']}-{round_}"}


def load(
    url: str, index: VectorIndex, packages: list[dict[str, Any]], pool: np.ndarray, size: int, noise: float
) -> tuple[uuid.UUID, str, dict[str, float]]:
    """A collection of `size` records with synthetic vectors; returns (tenant, collection name, timings)."""
    engine = make_sync_engine(url)
    name = f"h{size}"
    timings: dict[str, float] = {}
    with Session(engine) as s:
        tenant = create_tenant(s, f"bench-{uuid.uuid4().hex[:8]}")
        s.commit()
        tenant_id = tenant.id
        started = time.perf_counter()
        result = ingest_records(
            s,
            tenant_id=tenant_id,
            collection_name=name,
            records=records(packages, size),
            entity_type="package",
            source_type="bench",
        )
        s.commit()
        timings["ingest_s"] = time.perf_counter() - started
    collection_id = result.collection_id
    target = vector_collection_name(tenant_id, collection_id, 1)
    index.create_collection(target, pool.shape[1], defer_index=True)
    rng = np.random.default_rng(7)
    started = time.perf_counter()
    last = uuid.UUID(int=0)
    offset = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT id, record_type, status, collection_data FROM records WHERE collection_id = :c "
                    "AND id > :last ORDER BY id LIMIT :n"
                ),
                {"c": collection_id, "last": last, "n": UPSERT_CHUNK},
            ).all()
        if not rows:
            break
        last = rows[-1].id
        base = pool[(np.arange(offset, offset + len(rows))) % len(pool)]
        vectors = base + rng.normal(0, noise, base.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        payloads = [
            build_point_payload(
                tenant_id=tenant_id,
                collection=name,
                generation=1,
                record_type=r.record_type,
                status=r.status,
                collection_data=r.collection_data,
            )
            for r in rows
        ]
        index.upsert(target, [r.id for r in rows], vectors, payloads)
        offset += len(rows)
    timings["vectors_s"] = time.perf_counter() - started
    started = time.perf_counter()
    index.build_index(target)
    timings["ann_index_s"] = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE records SET embedding_status = 'indexed' WHERE collection_id = :c"),
            {"c": collection_id},
        )
        conn.execute(sa.text("ANALYZE records"))
    engine.dispose()
    return tenant_id, name, timings


def queries(packages: list[dict[str, Any]], count: int) -> list[str]:
    rng = random.Random(11)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        words = [w.strip(".,()") for w in rng.choice(packages)["description_llm"].split() if len(w) > 3]
        if len(words) < 3:
            continue
        q = " ".join(rng.sample(words, 3)).lower()
        if q not in seen:
            seen.add(q)
            out.append(q)
    return out


async def measure(url: str, tenant_id: uuid.UUID, name: str, qs: list[str]) -> dict[str, list[float]]:
    engine = make_async_engine(url, pool_size=2)
    times: dict[str, list[float]] = {"fulltext": [], "hybrid": []}
    modes: dict[str, int] = {}
    try:
        async with AsyncSession(engine) as session:
            for q in qs[:5]:  # warm-up: plans, pools, the model
                await search(
                    session, tenant_id, name, SearchRequest(query=q, search_mode="hybrid"), cache=NoCache()
                )
            for q in qs:
                for mode in ("fulltext", "hybrid"):
                    hybrid._QUERY_VECTORS.clear()  # noqa: SLF001 - every query pays for its embedding
                    started = time.perf_counter()
                    response = await search(
                        session, tenant_id, name, SearchRequest(query=q, search_mode=mode), cache=NoCache()
                    )
                    times[mode].append((time.perf_counter() - started) * 1000)
                    modes[response.search_mode] = modes.get(response.search_mode, 0) + 1
    finally:
        await engine.dispose()
    if modes.get("hybrid", 0) != len(qs):
        raise SystemExit(f"hybrid queries fell back to full text: {modes}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--qdrant-size", type=int, default=100_000, help="0 to skip Qdrant")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pool", type=int, default=1000)
    parser.add_argument("--noise", type=float, default=0.03)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    packages = debian_packages()
    provider = LocalMiniLMProvider()
    started = time.perf_counter()
    pool = provider.embed(
        [
            build_embedding_text(p["name"], p["record_type"], p["description_llm"], p["collection_data"])
            for p in packages[: args.pool]
        ]
    )
    print(f"pool of {len(pool)} real embeddings in {time.perf_counter() - started:.0f} s")
    qs = queries(packages, args.queries)
    url = fresh_database("hybrid")
    runs = [("pgvector", size) for size in args.sizes]
    if args.qdrant_size:
        runs.append(("qdrant", args.qdrant_size))
    rows = []
    for backend, size in runs:
        settings = Settings(
            database_url=url,
            data_dir=Path(tempfile.mkdtemp(prefix="kariz-bench-")),
            vector_backend=backend,
            qdrant_url=":memory:" if backend == "qdrant" else None,
        )
        override_settings(settings)
        index = get_vector_index(settings)
        tenant_id, name, timings = load(url, index, packages, pool, size, args.noise)
        print(f"{backend} {size:,}: loaded {timings}")
        times = asyncio.run(measure(url, tenant_id, name, qs))
        row = (
            backend,
            size,
            pct(times["fulltext"], 50),
            pct(times["fulltext"], 95),
            pct(times["hybrid"], 50),
            pct(times["hybrid"], 95),
            timings,
        )
        rows.append(row)
        print(
            f"{backend} {size:,}: fulltext p50 {row[2]:.1f} ms p95 {row[3]:.1f} ms; "
            f"hybrid p50 {row[4]:.1f} ms p95 {row[5]:.1f} ms (x{row[5] / row[3]:.1f} at p95)"
        )
    load_avg = (load_before + os.getloadavg()[0]) / 2
    if args.no_readme:
        return
    block = "\n".join(
        [
            f"### Hybrid search latency (`bench/hybrid_search.py`) — {dt.date.today().isoformat()}, {available_cores()} cores",
            "",
            f"`core.search.search` in-process (asyncpg, no result cache), {len(qs)} distinct 3-word keyword queries from"
            " package summaries, each run as `fulltext` and as `hybrid` (RRF of the full-text ranking and the vector"
            " ranking, depth 100, query embedded every time, hydration from PostgreSQL). Records: Debian packages cycled"
            " with numbered names. **Vectors are synthetic**: a pool of"
            f" {len(pool):,} real MiniLM embeddings of package texts, record i = pool[i mod {len(pool)}] + N(0, {args.noise}²)"
            " noise, renormalised (1M real embeddings would take hours on 2 cores). pgvector: HNSW built after the"
            " load (m=16, ef_construction=64, ef_search=100); Qdrant: local mode (in-process, brute force).",
            "",
            "| backend | records | fulltext p50 ms | fulltext p95 ms | hybrid p50 ms | hybrid p95 ms | hybrid / fulltext p95 | load: ingest s, vectors s, ANN index s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            *[
                f"| {b} | {s:,} | {f50:.1f} | {f95:.1f} | {h50:.1f} | {h95:.1f} | x{h95 / f95:.1f} |"
                f" {t['ingest_s']:.0f}, {t['vectors_s']:.0f}, {t['ann_index_s']:.0f} |"
                for b, s, f50, f95, h50, h95, t in rows
            ],
            "",
            f"Load average ~{load_avg:.1f} on {available_cores()} cores while it ran (other suites and benchmarks share"
            " the machine).",
        ]
    )
    append_to_readme("Hybrid search", block)


if __name__ == "__main__":
    main()
