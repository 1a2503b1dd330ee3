"""The first semantic/hybrid query of a process: what its query embedding costs cold (the model
loads on first use) and after the API's start-up warm-up (`warm_models`, on by default), beside a
steady-state query embedding in the same process (the baseline).

Each round runs a fresh Python process (imports done before timing), so the cold figure includes
loading the ONNX model and building its session, as the first request of a new API worker did.

With `--http`, the same through a real API process: a collection of `--records` Debian packages
embedded for real by the pipeline (local MiniLM, pgvector) is loaded once; then each round starts
the API under uvicorn (`bench/api_process.py`: it reports ready on `/api/v1/health` only after its
start-up, which loads the model), waits until it is ready, and times the first
`POST /api/v1/search/{collection}` in hybrid mode (a query no earlier request embedded), then
`--warm` more hybrid requests with other queries in the same process (the warm baseline, median).
Rounds alternate with `KARIZ_WARM_MODELS=0` (the model loads on the first request), so load on the
machine falls on both alike. The cache is off; every answer is checked for search_mode hybrid.
Beside them: the warm queries' SQL alone (the full-text leg's page statement and the vector search,
on warm connections: the raw baseline), and what the start-up spent on the request-path warm-up
(`api/warmup.py` logs it; the model's load aside).

    .venv/bin/python bench/first_query.py [--rounds 5]
    .venv/bin/python bench/first_query.py --http [--rounds 5] [--records 2000] [--server-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import json, time
from core.settings import Settings
from core.search import hybrid
settings = Settings(env="test")
warm = {warm}
if warm:
    hybrid.warm_query_model(settings)   # what api/app.py's start-up does before serving
t0 = time.perf_counter(); hybrid.query_vector("cordless drill for concrete walls"); first = time.perf_counter() - t0
t0 = time.perf_counter(); hybrid.query_vector("stainless steel hex bolt m8"); steady = time.perf_counter() - t0
print(json.dumps({{"first_ms": first * 1000, "steady_ms": steady * 1000}}))
"""

#: hybrid queries of the HTTP rounds: the first one of each process, then the warm ones
FIRST_QUERY = "tool to compress files into an archive"
WARM_QUERIES = [
    "python library for parsing yaml",
    "text editor for the terminal",
    "network packet capture",
    "image manipulation program",
    "font for programming",
    "web server with reverse proxy",
    "spell checker dictionary",
    "version control system",
    "pdf viewer",
    "music player for the desktop",
    "database client library",
    "documentation generator",
    "audio codec",
    "game of chess",
    "mail client",
]


WARMED = re.compile(r"request path warmed in (\d+) ms")


def run(warm: bool) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(warm=warm)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def in_process(rounds: int) -> None:
    cold, warm = [], []
    for _ in range(rounds):  # alternated, so load on the machine falls on both alike
        cold.append(run(False))
        warm.append(run(True))
    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    print(f"load average {os.getloadavg()[0]:.1f}, {rounds} fresh processes each, medians:")
    print(f"  first query embedding, cold process:           {med(cold, 'first_ms'):8.1f} ms")
    print(f"  first query embedding, after start-up warm-up: {med(warm, 'first_ms'):8.1f} ms")
    print(f"  steady-state query embedding (baseline):       {med(warm, 'steady_ms'):8.1f} ms")


def load_collection(url: str, records: int, data_dir: Path) -> tuple[str, str, object, object]:
    """A tenant with collection `debian` of `records` packages, embedded; returns (collection, API key,
    tenant id, collection id)."""
    from sqlalchemy.orm import Session

    from bench.api_process import unlimited_key
    from bench.embed_pipeline import debian_packages, ingest
    from core.db.engine import make_sync_engine
    from core.embeddings.local_minilm import LocalMiniLMProvider
    from core.embeddings.pipeline import run_embedding_pipeline
    from core.settings import Settings, override_settings
    from core.vectors.factory import get_vector_index

    settings = Settings(database_url=url, data_dir=data_dir, vector_backend="pgvector")
    override_settings(settings)
    engine = make_sync_engine(url)
    tenant_id, collection_id = ingest(engine, debian_packages(records), "debian")
    report = run_embedding_pipeline(
        engine, tenant_id, collection_id, provider=LocalMiniLMProvider(), index=get_vector_index(settings)
    )
    print(f"{report.indexed} packages embedded in {report.seconds:.0f} s", flush=True)
    with Session(engine) as s:
        key = unlimited_key(s, tenant_id)
        s.commit()
    engine.dispose()
    return "debian", key, tenant_id, collection_id


def raw_sql_ms(url: str, tenant_id: object, collection_id: object) -> float:
    """The baseline: a hybrid request's SQL alone, median over the warm queries on warm connections
    (the full-text leg's page statement on psycopg, the vector search on the vector store; the query
    vectors computed beforehand, untimed)."""
    import sqlalchemy as sa

    from core.db.engine import make_sync_engine
    from core.embeddings.local_minilm import LocalMiniLMProvider
    from core.search import hybrid, sql
    from core.search.classify import classify_query
    from core.vectors.base import vector_collection_name
    from core.vectors.pgvector import PgVectorIndex

    engine, index, model = make_sync_engine(url), PgVectorIndex(url), LocalMiniLMProvider()
    with engine.connect() as conn:
        generation = conn.execute(
            sa.text("SELECT active_generation FROM collections WHERE id = :c"), {"c": collection_id}
        ).scalar_one()
        name = vector_collection_name(tenant_id, collection_id, generation)
        times = []
        for i, query in enumerate([FIRST_QUERY, *WARM_QUERIES]):
            vector = model.embed_one(query)
            page = sql.page(
                classify_query(query),
                [],
                None,
                sql.base_params(tenant_id, collection_id, generation),
                limit=hybrid.MIN_DEPTH,
                offset=0,
            )
            t0 = time.perf_counter()
            conn.execute(page.clause(), page.params).all()
            index.search(name, vector, limit=hybrid.MIN_DEPTH)
            if i:  # the first query warms the connections
                times.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    index.close()
    return statistics.median(times)


def http_round(url: str, data_dir: Path, collection: str, key: str, *, warm_models: bool, warm: int) -> dict:
    """One fresh API process: ms from ready to the first hybrid answer, then the warm answers' median."""
    import httpx

    from bench.api_process import start_api

    env = {
        "DATABASE_URL": url,
        "KARIZ_DATA_DIR": str(data_dir),
        "KARIZ_SEARCH_CACHE_TTL_S": "0",
        "KARIZ_ENV": "development",
        "KARIZ_VECTOR_BACKEND": "pgvector",
        "KARIZ_WARM_MODELS": "1" if warm_models else "0",
    }
    with tempfile.TemporaryFile(mode="w+") as log:  # the API's log
        started = time.perf_counter()
        proc, base = start_api(env, stderr=log)
        ready_s = time.perf_counter() - started
        try:
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as client:

                def timed(query: str) -> float:
                    t0 = time.perf_counter()
                    response = client.post(
                        f"/api/v1/search/{collection}", json={"query": query, "search_mode": "hybrid"}
                    )
                    ms = (time.perf_counter() - t0) * 1000
                    response.raise_for_status()
                    metadata = response.json()["metadata"]
                    if metadata["search_mode"] != "hybrid" or metadata["cache_hit"]:
                        raise SystemExit(f"not a computed hybrid answer: {metadata}")
                    return ms

                first = timed(FIRST_QUERY)
                steady = [timed(q) for q in WARM_QUERIES[:warm]]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.seek(0)
            lines = log.read().splitlines()
    # what start-up spent on the request path (api/warmup.py logs it), the model's load aside
    warmed = [float(m.group(1)) for line in lines if (m := WARMED.search(line))]
    return {
        "ready_s": ready_s,
        "first_ms": first,
        "warm_ms": statistics.median(steady),
        "warm_up_ms": warmed[0] if warmed else None,
    }


def through_http(args: argparse.Namespace) -> None:
    from core.db.embedded import ensure_database, start_embedded_server
    from core.db.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="kariz-bench-first-") as tmp:
        work = Path(tmp)
        server = args.server_url or start_embedded_server(work / "pg")
        url = ensure_database(server, f"kariz_bench_first_{uuid.uuid4().hex[:8]}")
        upgrade(url)
        collection, key, tenant_id, collection_id = load_collection(url, args.records, work / "data")
        warmed, cold = [], []
        for _ in range(args.rounds):
            warmed.append(http_round(url, work / "data", collection, key, warm_models=True, warm=args.warm))
            cold.append(http_round(url, work / "data", collection, key, warm_models=False, warm=args.warm))
            print(f"  warm-up on: {warmed[-1]}  off: {cold[-1]}  load {os.getloadavg()[0]:.1f}", flush=True)
        med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
        print(
            f"load average {os.getloadavg()[0]:.1f}, {args.rounds} fresh API processes each, "
            f"{args.records} records, medians, client-side ms of POST /search (hybrid):"
        )
        print(
            f"  first hybrid request, model loaded at start-up (default): {med(warmed, 'first_ms'):8.1f} ms"
            f"  (max {max(r['first_ms'] for r in warmed):.1f}; ready after {med(warmed, 'ready_s'):.1f} s)"
        )
        print(f"  warm hybrid request, same processes (baseline):           {med(warmed, 'warm_ms'):8.1f} ms")
        print(
            f"  first hybrid request, KARIZ_WARM_MODELS=0:                {med(cold, 'first_ms'):8.1f} ms"
            f"  (ready after {med(cold, 'ready_s'):.1f} s)"
        )
        print(
            f"  the same requests' SQL alone (raw baseline, median):      {raw_sql_ms(url, tenant_id, collection_id):8.1f} ms"
        )
        spent = [r["warm_up_ms"] for r in warmed if r["warm_up_ms"] is not None]
        if spent:  # absent on code whose warm-up does not log it
            print(
                f"  start-up time of the request-path warm-up (api/warmup.py): {statistics.median(spent):8.1f} ms"
                f"  (range {min(spent):.0f}-{max(spent):.0f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--http", action="store_true", help="through a real API process (first POST /search)")
    parser.add_argument("--records", type=int, default=2000, help="--http: packages in the collection")
    parser.add_argument("--warm", type=int, default=10, help="--http: warm requests after the first")
    parser.add_argument("--server-url", default=None, help="--http: a PostgreSQL server (else embedded)")
    args = parser.parse_args()
    through_http(args) if args.http else in_process(args.rounds)


if __name__ == "__main__":
    main()
