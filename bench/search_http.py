"""Search through HTTP at 1M records with concurrent clients, beside the raw SQL in the same run.

For each catalog and query kind (identifier, keyword, filter-only) the same list of requests is
measured twice, alternating in rounds:
  * sql   - the statements `core.search` runs for that request (`bench.search_sql.run_sql`: the
            page with its records' fields, then a count or the planner's estimate only when the page
            cannot tell the total), sent straight through SQLAlchemy's asyncpg driver by as many
            tasks as clients, one connection each;
  * http  - `POST /api/v1/search/{collection}` against the real app under uvicorn (one worker, a
            subprocess), as many keep-alive clients as `--concurrency` says, each a thin HTTP/1.1
            client on one connection; latency seen by the client.
API overhead = http - sql at p50 and p95 (auth, rate-limit counting, collection lookup,
classification, response building, JSON, HTTP). The `hybrid` kind (realistic catalog, a collection
whose generation has vectors: see `--vectors`) sends the keyword requests' kind of query with
`search_mode: hybrid`: through HTTP the query is embedded by the real model on every request (the
warm-up uses other queries, so the API's memo of recent query vectors never answers; checked from
the answers' `embed_ms`), and the SQL side runs hybrid's statements one after another (the full-text
leg, the pgvector search with the query's vector computed before timing, the in-generation check and
the hydration); the answers' own spans (embed, vector, full-text leg, hydrate) are printed too. With `--peer tantivy` the identifier and keyword
requests also run against a Tantivy index of the same records (built in this run from the loaded
collection: BM25, name boosted 3x, package 2x, part number and section; top 20 with their stored
fields, as Kariz answers), in process, as many threads as clients, alternating in the same rounds
(`--peer-dir` keeps that index and reuses it; for `hybrid` the peer answers the same query by BM25
alone: it has no vectors). The cache is off (KARIZ_SEARCH_CACHE_TTL_S=0) and every answer is
checked for cache_hit=false.

Catalogs (each `--rows`, loaded once through `ingest_file`, then VACUUM ANALYZE):
  * synthetic - bench/ingest_csv.py's fasteners: 8 product kinds, 6 materials, so every keyword
                query matches 1/8 to 1/3 of the collection (the worst case for ranking);
  * realistic - names are the short descriptions of Debian packages (`apt-cache dumpavail`: real
                English product-like text, Zipf-distributed words), keyword queries two words of a
                random record's name.

    .venv/bin/python bench/search_http.py [--rows 1000000] [--queries 300]
        [--concurrency 1 4] [--catalog synthetic realistic] [--server-url URL] [--keep]
        [--peer tantivy [--peer-dir DIR]] [--kinds identifier keyword filter-only filter+sort hybrid]
        [--vectors PKG_VECTORS.npy PKG_NAMES.txt]

`--vectors`: give the realistic collection vectors when its generation has none (once, kept with
the database): each record gets the real MiniLM embedding of its package's embedding text (name =
the package's description, type, package and section; computed beforehand for the ~63k distinct
packages, see `write_vectors`) plus a little Gaussian noise standing in for its own fields (part
number, price, country), written with COPY into the generation's points table (without the payload
index, which only filtered vector searches use), then the HNSW index is built as the embedding
pipeline builds it.

Without --server-url an embedded PostgreSQL starts in a temporary folder. With --keep and
--server-url, loaded databases are kept and reused by the next run (named by catalog and rows).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import csv
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_process import start_api as serve_api  # noqa: E402
from bench.api_process import unlimited_key  # noqa: E402
from bench.ingest_csv import COUNTRIES, apt_catalog_csv, synthetic_csv  # noqa: E402
from bench.percentiles import pct  # noqa: E402
from bench.search_sql import FILTERS as SYNTHETIC_FILTERS  # noqa: E402
from bench.search_sql import KEYWORDS as SYNTHETIC_KEYWORDS  # noqa: E402
from bench.search_sql import run_sql  # noqa: E402
from core.db.embedded import ensure_database, start_embedded_server  # noqa: E402
from core.db.engine import make_async_engine, make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.db.urls import libpq_url  # noqa: E402
from core.ingestion import ingest_file  # noqa: E402
from core.search import SearchRequest, sql  # noqa: E402
from core.search.field_indexes import maintain_field_indexes  # noqa: E402
from core.search.service import search_fields  # noqa: E402
from core.settings import get_settings  # noqa: E402
from core.tenants.service import create_tenant  # noqa: E402

COLLECTION = "catalog"
REALISTIC_FILTERS = [
    {"section": "libs"},
    {"country": "DE", "in_stock": True},
    {"price_eur_max": 1},
    {"section": "python", "price_eur_min": 40},
    {"released_min": "2026-06-01", "country_in": "JP"},
]
# filter-only searches sorted by a field (both directions, with and without a range on it)
REALISTIC_SORTED = [
    ({"price_eur_max": 1}, "price_eur"),
    ({"section": "libs"}, "-price_eur"),
    ({"country": "JP", "in_stock": True}, "-released"),
    ({"section": "python"}, "released"),
    ({"price_eur_min": 10, "price_eur_max": 20}, "-price_eur"),
]
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]{3,}")
_STOP = {"with", "from", "that", "this", "into", "your", "such", "used", "using", "based", "other", "files"}


# ---------------------------------------------------------------------------------------------
# catalogs


def realistic_csv(path: Path, rows: int, workdir: Path, seed: int = 5) -> None:
    """`rows` products named after Debian package descriptions, with part numbers and typed fields."""
    apt = workdir / "apt.csv"
    if not apt_catalog_csv(apt):
        raise SystemExit("the realistic catalog needs apt-cache")
    with apt.open(newline="", encoding="utf-8") as fh:
        packages = [
            (r["package"], (r["description"] or r["package"]).strip(), r["section"] or "misc")
            for r in csv.DictReader(fh)
        ]
    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            ["part_number", "name", "package", "section", "price_eur", "in_stock", "country", "released"]
        )
        for i in range(rows):
            package, description, section = packages[rnd.randrange(len(packages))]
            out.writerow(
                [
                    f"DB-{i:07d}-{rnd.randint(10, 99)}",
                    description,
                    package,
                    section.rsplit("/", 1)[-1],
                    rnd.randint(1, 5000) / 100,
                    rnd.choice(["true", "false"]),
                    rnd.choice(COUNTRIES),
                    f"20{rnd.randint(20, 26)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                ]
            )


@dataclass
class Loaded:
    url: str
    tenant_id: uuid.UUID
    api_key: str


def load(server: str, catalog: str, rows: int, workdir: Path, keep: bool) -> Loaded:
    """A database holding the catalog in collection `catalog` of a bench tenant (reused when kept)."""
    name = f"kariz_bench_http_{catalog}_{rows}" if keep else f"kariz_bench_http_{uuid.uuid4().hex[:8]}"
    url = ensure_database(server, name)
    upgrade(url)
    engine = make_sync_engine(url)
    with Session(engine) as s:
        tenant_id = s.execute(
            sa.text("SELECT c.tenant_id FROM collections c WHERE c.name = :n"), {"n": COLLECTION}
        ).scalar()
        loaded = (
            tenant_id is not None
            and s.execute(
                sa.text("SELECT count(*) FROM records WHERE tenant_id = :t"), {"t": tenant_id}
            ).scalar_one()
            >= rows * 0.99
        )
        if not loaded:
            csv_path = workdir / f"{catalog}.csv"
            (
                synthetic_csv(csv_path, rows)
                if catalog == "synthetic"
                else realistic_csv(csv_path, rows, workdir)
            )
            tenant_id = create_tenant(s, f"bench-http-{uuid.uuid4().hex[:8]}").id
            started = time.perf_counter()
            result = ingest_file(
                s,
                tenant_id=tenant_id,
                collection_name=COLLECTION,
                data=csv_path,
                entity_type="product",
                max_bytes=1 << 40,
            )
            s.commit()
            print(
                f"{catalog}: loaded {result.accepted:,} records in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            csv_path.unlink()
        key = unlimited_key(s, tenant_id)
        s.commit()
    engine.dispose()
    if not loaded:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(
                "VACUUM ANALYZE records"
            )  # the steady state: GIN pending lists merged, statistics fresh
    # the field indexes the Dagster field_index_sensor builds after an ingestion (none left to build
    # on a kept database that already has them)
    settings = get_settings()
    engine = make_sync_engine(url)
    started = time.perf_counter()
    built = maintain_field_indexes(
        engine,
        min_records=settings.search_field_index_min_records,
        max_fields=settings.search_field_index_max,
    ).built
    engine.dispose()
    if built:
        print(f"{catalog}: {len(built)} field indexes built in {time.perf_counter() - started:.0f} s", flush=True)
    return Loaded(url, tenant_id, key)


def write_vectors(loaded: Loaded, vectors_file: Path, names_file: Path, *, noise: float = 0.02) -> None:
    """Vectors for the loaded realistic collection's active generation, unless it has them: each
    record the real embedding of its package's text (`vectors_file` rows, in `names_file` order) plus
    Gaussian noise (`noise` per dimension, renormalised), COPY'd into the generation's points table
    with its payload; then the HNSW index, as the embedding pipeline builds it (1M records: the
    2026-12-04 run in bench/README.md says how long each step took). The payload's GIN index serves
    filtered vector searches only, which this bench does not send: it is dropped, not rebuilt."""
    import numpy as np
    from pgvector.psycopg import register_vector

    from core.vectors.base import vector_collection_name
    from core.vectors.payloads import build_point_payload
    from core.vectors.pgvector import PgVectorIndex, points_table

    engine = make_sync_engine(loaded.url)
    with engine.connect() as conn:
        collection_id, generation = conn.execute(
            sa.text("SELECT id, active_generation FROM collections WHERE tenant_id = :t AND name = :n"),
            {"t": loaded.tenant_id, "n": COLLECTION},
        ).one()
    engine.dispose()
    name = vector_collection_name(loaded.tenant_id, collection_id, generation)
    index = PgVectorIndex(loaded.url, build_memory="4GB")
    if index.collection_exists(name) and index.index_ready(name):
        index.close()
        return
    matrix = np.load(vectors_file)
    row_of = {package: i for i, package in enumerate(names_file.read_text().split("\n"))}
    table = f'kariz_vectors."{points_table(name)}"'
    if not index.collection_exists(name):
        index.create_collection(name, matrix.shape[1], defer_index=True)
    rng = np.random.default_rng(3)
    started = time.perf_counter()
    # records are read on a connection of their own: one in COPY state cannot also FETCH
    with psycopg.connect(libpq_url(loaded.url)) as conn, psycopg.connect(libpq_url(loaded.url)) as source:
        register_vector(conn)
        conn.execute(f'DROP INDEX IF EXISTS kariz_vectors."{points_table(name)}_payload"')
        conn.execute(f"TRUNCATE {table}")
        with source.cursor(name="records") as cur, conn.cursor() as out:
            cur.itersize = 20_000
            cur.execute(
                "SELECT id, record_type, status, collection_data FROM records "
                "WHERE collection_id = %s AND generation = %s",
                (collection_id, generation),
            )
            with out.copy(f"COPY {table} (id, embedding, payload) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["uuid", "vector", "jsonb"])
                while batch := cur.fetchmany(20_000):
                    # (ingestion types a package named `2048` as a number: matched by its text)
                    base = matrix[[row_of[str(r[3]["package"])] for r in batch]]
                    vectors = base + rng.normal(0, noise, base.shape).astype(np.float32)
                    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                    for (record_id, record_type, status, data), vector in zip(batch, vectors, strict=True):
                        payload = build_point_payload(
                            tenant_id=loaded.tenant_id, collection=COLLECTION, generation=generation,
                            record_type=record_type, status=status, collection_data=data,
                        )
                        copy.write_row((record_id, vector, Jsonb(payload)))
        conn.commit()
        copied = time.perf_counter() - started
    started = time.perf_counter()
    index.build_index(name)
    hnsw_s = time.perf_counter() - started
    index.close()
    with psycopg.connect(libpq_url(loaded.url), autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {table}")
    print(
        f"vectors: COPY {copied:.0f} s, HNSW (m 16, ef_construction 64, "
        f"maintenance_work_mem 4GB) {hnsw_s:.0f} s",
        flush=True,
    )


# ---------------------------------------------------------------------------------------------
# requests


def build_requests(
    catalog: str, kind: str, n: int, samples: list[tuple[str, str]], rnd: random.Random
) -> list[dict]:
    """JSON bodies of `n` searches of one kind (the same list for sql and http)."""
    if kind == "identifier":
        return [{"query": rnd.choice(samples)[0]} for _ in range(n)]
    if kind == "filter-only":
        filters = SYNTHETIC_FILTERS if catalog == "synthetic" else REALISTIC_FILTERS
        return [{"filters": rnd.choice(filters)} for _ in range(n)]
    if kind == "filter+sort":
        return [dict(zip(("filters", "sort"), rnd.choice(REALISTIC_SORTED), strict=True)) for _ in range(n)]
    # keyword searches ask for full text: `auto` would make them hybrid (query embedding + vectors),
    # which is not what the SQL side runs
    if catalog == "synthetic":
        return [{"query": rnd.choice(SYNTHETIC_KEYWORDS), "search_mode": "fulltext"} for _ in range(n)]
    mode = "hybrid" if kind == "hybrid" else "fulltext"
    bodies = []
    while len(bodies) < n:
        words = [w for w in _WORD.findall(rnd.choice(samples)[1]) if w.lower() not in _STOP]
        if len(words) >= 2:
            bodies.append({"query": " ".join(rnd.sample(words, 2)), "search_mode": mode})
    return bodies


async def sql_one(session: AsyncSession, ids: tuple, catalog_fields: dict, body: dict) -> None:
    """The statements `core.search.search` runs for `body`, without anything around them."""
    req = SearchRequest(query=body.get("query"), filters=body.get("filters") or {}, sort=body.get("sort"))
    await run_sql(session, ids, catalog_fields, req)


_VECTOR_SEARCH = (
    "WITH hits AS MATERIALIZED (SELECT id, embedding <=> CAST(CAST(:q AS text) AS vector) AS distance "
    "FROM kariz_vectors.\"{table}\" ORDER BY embedding <=> CAST(CAST(:q AS text) AS vector) LIMIT :k) "
    "SELECT id, distance FROM hits ORDER BY distance, id"
)


async def hybrid_sql_one(session: AsyncSession, target: Any, query: str, vector: str) -> None:
    """The statements a hybrid search runs for `query` (20 results), one after another, with the
    query's vector (`vector`, pgvector's text form) computed beforehand: the full-text leg (and its
    any-word fallback), the vector collection's lookup with the HNSW settings, the HNSW search, the
    in-generation check and the hydration."""
    from core.search import hybrid
    from core.search.classify import classify_query
    from core.vectors.pgvector import _RESOLVE

    plan = classify_query(query)
    depth = hybrid.MIN_DEPTH
    fulltext, _ = await hybrid._fulltext_leg(session, target, plan, [], depth, exact_only=False)
    table = (await session.execute(_RESOLVE, {"name": target.vector_collection, "ef": str(depth)})).one().table_name
    hits = (await session.execute(sql.text_clause(_VECTOR_SEARCH.format(table=table)), {"q": vector, "k": depth})).all()
    valid = await hybrid._in_generation(session, target, [], [h.id for h in hits])
    semantic = [(h.id, 1.0 - float(h.distance)) for h in hits if h.id in valid]
    ranked = hybrid.fuse([(i, s) for i, s, _ in fulltext], semantic, semantic_weight=hybrid.DEFAULT_SEMANTIC_WEIGHT)
    await hybrid._hydrate(session, target, ranked[:20], {})
    await session.rollback()  # the HNSW settings are the transaction's, as in the vector store


async def timed(concurrency: int, bodies: list[dict], make_worker) -> list[float]:
    """Run `bodies` through `concurrency` workers; per-request latencies in ms."""
    latencies: list[float] = []
    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker(index: int) -> None:
        async with make_worker(index) as call:
            while True:
                try:
                    body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                await call(body)
                latencies.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies


# ---------------------------------------------------------------------------------------------
# the peer engine


class TantivyPeer:
    """The loaded collection in a Tantivy index (a benchmark peer only: `pip install tantivy`)."""

    FIELDS = ("name", "package", "part_number", "section")

    def __init__(self, url: str, collection_id: uuid.UUID, folder: Path) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("data", stored=True, tokenizer_name="raw")
        for field in self.FIELDS:
            builder.add_text_field(field, stored=True, tokenizer_name="en_stem")
        folder.mkdir(parents=True, exist_ok=True)
        built = folder / "kariz-collection"
        reuse = built.exists() and built.read_text() == str(collection_id)
        self.index = tantivy.Index(builder.build(), path=str(folder), reuse=reuse)
        if reuse:  # kept by an earlier run (--peer-dir) for this very collection
            self.searcher = self.index.searcher()
            self.build_s = 0.0
            print(f"tantivy: reusing {self.searcher.num_docs:,} records indexed in {folder}", flush=True)
            return
        writer = self.index.writer(heap_size=300_000_000, num_threads=1)
        started = time.perf_counter()
        count = 0
        with psycopg.connect(libpq_url(url)) as conn, conn.cursor(name="peer") as cur:
            cur.itersize = 10_000
            cur.execute(
                "SELECT id::text, name, collection_data::text FROM records "
                "WHERE collection_id = %s AND status = 'active'",
                (collection_id,),
            )
            for record_id, name, data in cur:
                fields = json.loads(data)
                writer.add_document(tantivy.Document(
                    id=record_id, data=data, name=name, package=fields.get("package", ""),
                    part_number=fields.get("part_number", ""), section=fields.get("section", ""),
                ))
                count += 1
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.build_s = time.perf_counter() - started
        built.write_text(str(collection_id))
        print(f"tantivy: indexed {count:,} records in {self.build_s:.0f} s", flush=True)

    def search(self, query: str) -> list[dict]:
        """The top 20 with their stored fields (what a client of the engine would show)."""
        parsed, _errors = self.index.parse_query_lenient(
            query, list(self.FIELDS), field_boosts={"name": 3.0, "package": 2.0}
        )
        return [self.searcher.doc(address).to_dict() for _score, address in self.searcher.search(parsed, 20).hits]


# ---------------------------------------------------------------------------------------------
# the API server


def start_api(url: str, workdir: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    return serve_api({"DATABASE_URL": url, "KARIZ_DATA_DIR": str(workdir / "data"),
                      "KARIZ_SEARCH_CACHE_TTL_S": "0", "KARIZ_ENV": "development"}, workers=workers)


class ThinHttpClient:
    """A keep-alive HTTP/1.1 client on one asyncio connection, so latency is the server's, not a client
    library's (httpx's own Python costs ~1 ms a request here; curl/wrk-style clients are thin too)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.host, port = base.removeprefix("http://").split(":")
        self.port = int(port)
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: dict) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode()
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.headers}Content-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode() + data
        )
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        fields = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        if "content-length" in fields:
            return status, await self.reader.readexactly(int(fields["content-length"]))
        chunks = []  # chunked transfer encoding
        while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
            chunks.append(await self.reader.readexactly(size + 2))
        await self.reader.readuntil(b"\r\n")
        return status, b"".join(c[:-2] for c in chunks)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# ---------------------------------------------------------------------------------------------


async def bench_catalog(
    catalog: str, loaded: Loaded, base: str, args: argparse.Namespace, workdir: Path
) -> list[dict]:
    engine = make_async_engine(loaded.url, pool_size=max(args.concurrency) + 1)
    rnd = random.Random(11)
    async with AsyncSession(engine) as session:
        row = (await session.execute(sql.COLLECTION, {"tenant": loaded.tenant_id, "name": COLLECTION})).one()
        samples = [
            (r[0], r[1])
            for r in await session.execute(
                sa.text(
                    "SELECT collection_data ->> 'part_number', name FROM records TABLESAMPLE SYSTEM (1) "
                    "WHERE collection_id = :c LIMIT 2000"
                ),
                {"c": row.id},
            )
        ]
        fields = await search_fields(session, row.id, row.active_generation, row.version)
    ids = (loaded.tenant_id, row.id, row.active_generation)
    from core.search.hybrid import Target

    target = Target(loaded.tenant_id, row.id, COLLECTION, row.active_generation)
    vectors: dict[str, str] = {}  # hybrid queries' vectors for the SQL side, computed before timing
    spans: dict[str, list[float]] = {}  # the hybrid answers' own timings
    memo_hits = 0
    peer_dir = Path(args.peer_dir) / catalog if args.peer_dir else workdir / f"tantivy-{catalog}"
    peer = TantivyPeer(loaded.url, row.id, peer_dir) if args.peer == "tantivy" else None
    pool = concurrent.futures.ThreadPoolExecutor(max(args.concurrency))
    headers = {"Authorization": f"Bearer {loaded.api_key}"}
    cache_hits = 0

    class SqlWorker:
        def __init__(self, _: int) -> None:
            self.session = AsyncSession(engine)

        async def __aenter__(self):
            async def call(body: dict) -> None:
                if body.get("search_mode") == "hybrid":
                    await hybrid_sql_one(self.session, target, body["query"], vectors[body["query"]])
                else:
                    await sql_one(self.session, ids, fields, body)

            return call

        async def __aexit__(self, *exc: Any) -> None:
            await self.session.close()

    class HttpWorker:
        def __init__(self, _: int) -> None:
            self.client = ThinHttpClient(base, headers)

        async def __aenter__(self):
            async def call(body: dict) -> None:
                nonlocal cache_hits, memo_hits
                status, payload = await self.client.post_json(f"/api/v1/search/{COLLECTION}", body)
                if status != 200:
                    raise SystemExit(f"{status}: {payload[:300]!r}")
                metadata = json.loads(payload)["metadata"]
                cache_hits += metadata["cache_hit"]
                if body.get("search_mode") == "hybrid":
                    if metadata["search_mode"] != "hybrid":
                        raise SystemExit(f"not a hybrid answer: {metadata}")
                    memo_hits += metadata["timings"]["embed_ms"] < 0.5
                    for span, ms in metadata["timings"].items():
                        spans.setdefault(span, []).append(ms)

            return call

        async def __aexit__(self, *exc: Any) -> None:
            await self.client.close()

    class PeerWorker:
        def __init__(self, _: int) -> None:
            self.loop = asyncio.get_running_loop()

        async def __aenter__(self):
            async def call(body: dict) -> None:
                if not await self.loop.run_in_executor(pool, peer.search, body["query"]):
                    raise SystemExit(f"tantivy found nothing for {body['query']!r}")

            return call

        async def __aexit__(self, *exc: Any) -> None:
            return None

    lines = []
    for concurrency, kind in [
        (c, k)
        for c in args.concurrency
        for k in ("identifier", "keyword", "filter-only", *(("filter+sort",) if catalog == "realistic" else ()),
                  *(("hybrid",) if args.kinds and "hybrid" in args.kinds and catalog == "realistic" else ()))
        if args.kinds is None or k in args.kinds
    ]:
        if kind == "hybrid":
            # warmed with other queries than the timed ones: the API remembers recent query vectors
            bodies = build_requests(catalog, kind, args.queries + 20, samples, rnd)
            warm, bodies = bodies[args.queries :], bodies[: args.queries]
            from core.embeddings.factory import get_embedding_provider

            model = get_embedding_provider(get_settings())
            for body in warm + bodies:
                vectors[body["query"]] = "[" + ",".join(f"{x:.7g}" for x in model.embed_one(body["query"])) + "]"
            spans.clear()
        else:
            bodies = build_requests(catalog, kind, args.queries, samples, rnd)
            warm = bodies[:20]
        await timed(concurrency, warm, SqlWorker)  # warm up both paths
        await timed(concurrency, warm, HttpWorker)
        with_peer = peer is not None and kind in ("identifier", "keyword", "hybrid")
        if with_peer:
            await timed(concurrency, warm, PeerWorker)
        spans.clear()
        memo_hits = 0
        sql_ms: list[float] = []
        http_ms: list[float] = []
        peer_ms: list[float] = []
        rounds = 3
        for r in range(rounds):
            part = bodies[r::rounds]
            sql_ms += await timed(concurrency, part, SqlWorker)
            http_ms += await timed(concurrency, part, HttpWorker)
            if with_peer:
                peer_ms += await timed(concurrency, part, PeerWorker)
        line = {
            "catalog": catalog,
            "clients": concurrency,
            "kind": kind,
            "n": len(bodies),
            "sql_p50": pct(sql_ms, 50),
            "sql_p95": pct(sql_ms, 95),
            "http_p50": pct(http_ms, 50),
            "http_p95": pct(http_ms, 95),
        }
        line["peer_p50"] = pct(peer_ms, 50) if peer_ms else None
        line["peer_p95"] = pct(peer_ms, 95) if peer_ms else None
        line["load"] = os.getloadavg()[0]
        line["overhead_p50"] = line["http_p50"] - line["sql_p50"]
        line["overhead_p95"] = line["http_p95"] - line["sql_p95"]
        line["ratio_p50"] = statistics.median(http_ms) / statistics.median(sql_ms)
        print(
            f"{catalog:10s} {concurrency} {kind:12s} sql p50 {line['sql_p50']:7.2f} p95 {line['sql_p95']:7.2f} | "
            f"http p50 {line['http_p50']:7.2f} p95 {line['http_p95']:7.2f} | "
            f"overhead p50 {line['overhead_p50']:+.2f} p95 {line['overhead_p95']:+.2f} ms"
            + (f" | tantivy p50 {line['peer_p50']:.2f} p95 {line['peer_p95']:.2f}" if peer_ms else "")
            + f" | load {line['load']:.1f}",
            flush=True,
        )
        if kind == "hybrid":
            print(
                "  hybrid answers' own spans (p50 / p95 ms): "
                + ", ".join(f"{k} {pct(v, 50):.2f} / {pct(v, 95):.2f}" for k, v in sorted(spans.items()))
                + f" | query vectors from the API's memo: {memo_hits}",
                flush=True,
            )
            line["spans"] = {k: (pct(v, 50), pct(v, 95)) for k, v in spans.items()}
        lines.append(line)
    if cache_hits:
        raise SystemExit(f"{cache_hits} answers came from the cache: the figures would be wrong")
    pool.shutdown()
    await engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 4], help="clients (one run per value)"
    )
    parser.add_argument(
        "--catalog", nargs="+", default=["synthetic", "realistic"], choices=["synthetic", "realistic"]
    )
    parser.add_argument("--server-url", default=None)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the loaded databases")
    parser.add_argument("--peer", choices=["tantivy"], default=None, help="also time a peer engine in process")
    parser.add_argument("--kinds", nargs="+", default=None,
                        choices=["identifier", "keyword", "filter-only", "filter+sort", "hybrid"],
                        help="query kinds (all but hybrid)")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes of the API")
    parser.add_argument("--peer-dir", default=None, help="keep the peer's index here and reuse it")
    parser.add_argument("--vectors", nargs=2, default=None, metavar=("VECTORS_NPY", "NAMES_TXT"),
                        help="give the realistic collection vectors first (see write_vectors)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kariz-bench-http-") as tmp:
        workdir = Path(tmp)
        server = args.server_url or start_embedded_server(workdir / "pg")
        results = []
        for catalog in args.catalog:
            loaded = load(server, catalog, args.rows, workdir, keep=args.keep and bool(args.server_url))
            if args.vectors and catalog == "realistic":
                write_vectors(loaded, Path(args.vectors[0]), Path(args.vectors[1]))
            proc, base = start_api(loaded.url, workdir, args.api_workers)
            try:
                results += asyncio.run(bench_catalog(catalog, loaded, base, args, workdir))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        load_avg = os.getloadavg()[0]
        print(
            f"\n| catalog ({args.rows:,} rows) | clients | query kind | sql p50 ms | sql p95 ms | http p50 ms | "
            f"http p95 ms | API overhead p50 ms | API overhead p95 ms | tantivy p50 ms | tantivy p95 ms | load |"
            f"  (load average {load_avg:.1f} at the end)"
        )
        print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in results:
            peer = (
                f"{r['peer_p50']:.2f} | {r['peer_p95']:.2f}" if r["peer_p50"] is not None else "- | -"
            )
            print(
                f"| {r['catalog']} | {r['clients']} | {r['kind']} | {r['sql_p50']:.2f} | {r['sql_p95']:.2f} | "
                f"{r['http_p50']:.2f} | {r['http_p95']:.2f} | {r['overhead_p50']:+.2f} | {r['overhead_p95']:+.2f} | "
                f"{peer} | {r['load']:.1f} |"
            )

if __name__ == "__main__":
    main()
