"""RAG store query latency at 100k chunks (`core.documents.retrieval.retrieve`, one client), full text
and hybrid, beside baselines measured in the same run: the raw SQL of the full-text match and rank
(the statement `retrieve` sends, run on a bare psycopg cursor: no hydration, no SQLAlchemy), the same
match ranking every match instead of the first `MAX_MATCHES`, and, for hybrid, the bare vector search
plus the query's embedding.

Chunks are sentences of the real documentation under /usr/share/doc, recombined into 100k chunks
of ~60 words over 1,000 files and written with COPY. Vectors: `--distinct` chunks (2,000) are embedded by
the real model, and every chunk gets the vector of one of them plus small noise (embedding 100k
chunks would take ~10 minutes here); the HNSW index is built after loading. The database is then
vacuumed and analyzed, as autovacuum does within a minute of such a load, so the figures are those
of a store at rest rather than of one still being bulk-loaded.

    .venv/bin/python bench/store_query.py [--chunks 100000] [--queries 200] [--distinct 2000] [--shared-buffers 1GB]
"""

from __future__ import annotations

import argparse
import io
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from core.db.embedded import ensure_database, start_embedded_server, stop_embedded_server  # noqa: E402
from core.db.engine import make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.db.urls import sync_url  # noqa: E402
from core.documents.retrieval import MAX_MATCHES, ranked_statement, retrieve  # noqa: E402
from core.documents.vectors import ensure_store_collection, store_collection_name  # noqa: E402
from core.embeddings.local_minilm import LocalMiniLMProvider  # noqa: E402
from core.settings import Settings, override_settings  # noqa: E402
from core.tenants.service import create_account, create_tenant  # noqa: E402
from core.vectors.factory import get_vector_index  # noqa: E402

DOC_ROOT = Path("/usr/share/doc")
FILES = 1000


def sentences(limit_bytes: int = 4_000_000) -> list[str]:
    out, total = [], 0
    for path in sorted(DOC_ROOT.rglob("*")):
        if path.suffix not in (".md", ".txt", "") or not path.is_file() or path.is_symlink():
            continue
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            if 30 < len(s) < 300:
                out.append(s)
                total += len(s)
        if total > limit_bytes:
            break
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def timed(fn, queries: list[str]) -> list[float]:
    times = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _memory_setting(value: str) -> str:
    if not re.fullmatch(r"\d+(kB|MB|GB)", value):
        raise argparse.ArgumentTypeError("a PostgreSQL memory size such as 512MB or 1GB")
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--distinct", type=int, default=2000, help="chunks embedded by the real model")
    parser.add_argument("--shared-buffers", default=None, type=_memory_setting,
                        help="e.g. 1GB (default: the embedded server's 128MB)")
    args = parser.parse_args()
    print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}")
    rng = random.Random(7)
    pool = sentences()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_embedded_server(Path(tmp) / "pg")
        if args.shared_buffers:  # a restart applies it
            admin = sa.create_engine(sync_url(server), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f"ALTER SYSTEM SET shared_buffers = '{args.shared_buffers}'"))
            admin.dispose()
            stop_embedded_server(Path(tmp) / "pg")
            server = start_embedded_server(Path(tmp) / "pg")
        try:
            url = ensure_database(server, "bench_store_query")
            upgrade(url)
            override_settings(Settings(data_dir=Path(tmp), database_url=url))
            engine = make_sync_engine(url)
            with Session(engine) as session:
                tenant = create_tenant(session, "bench-query")
                account = create_account(session, tenant.id, "bench@example.com")
                tenant_id, account_id = tenant.id, account.id
                file_ids = [uuid.uuid4() for _ in range(FILES)]
                session.execute(sa.text(
                    "INSERT INTO files (id, tenant_id, account_id, name, content_type, size_bytes, sha256, storage_key,"
                    " status, in_store, chunk_count) SELECT f, :t, :a, 'doc-' || n || '.txt', 'text/plain', 1000,"
                    " md5(f::text) || md5(n::text), 'x', 'active', true, 0"
                    " FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS u(f, n)"),
                    {"t": tenant_id, "a": account_id, "ids": [str(f) for f in file_ids]})
                session.commit()
            chunk_ids, texts = [], []
            buf = io.StringIO()
            for i in range(args.chunks):
                text = " ".join(rng.choice(pool) for _ in range(4)).replace("\\", " ").replace("\t", " ")
                cid = uuid.uuid4()
                chunk_ids.append(cid)
                if len(texts) < args.distinct:
                    texts.append(text)
                buf.write(f"{cid}\t{tenant_id}\t{file_ids[i % FILES]}\t{i // FILES}\t\\N\t{text}\t60\n")
            started = time.perf_counter()
            raw = engine.raw_connection()
            with raw.cursor() as cur, cur.copy(
                "COPY file_chunks (id, tenant_id, file_id, ordinal, page, text, tokens) FROM STDIN"
            ) as copy:
                copy.write(buf.getvalue())
            raw.commit()
            raw.close()
            with engine.begin() as conn:
                conn.execute(sa.text("ANALYZE file_chunks"))
            print(f"COPY of {args.chunks} chunks: {time.perf_counter() - started:.1f} s")

            provider = LocalMiniLMProvider()
            base = provider.embed(texts)
            nrng = np.random.default_rng(7)
            index = get_vector_index()
            name = ensure_store_collection(index, tenant_id, provider.dimension)
            index.drop_collection(name)
            index.create_collection(name, provider.dimension, defer_index=True)
            started = time.perf_counter()
            for start in range(0, args.chunks, 10_000):
                ids = chunk_ids[start : start + 10_000]
                vectors = base[np.arange(start, start + len(ids)) % len(base)]
                vectors = vectors + nrng.normal(0, 0.02, vectors.shape).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                index.upsert(name, ids, vectors, [{"file_id": str(file_ids[(start + j) % FILES]),
                                                   "account_id": str(account_id)} for j in range(len(ids))])
            index.build_index(name)
            print(f"vectors loaded and indexed: {time.perf_counter() - started:.1f} s")
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))

            words = [w for s in pool[:5000] for w in re.findall(r"[a-z]{5,}", s.lower())]
            queries = [" ".join(rng.sample(words, 2)) for _ in range(args.queries)]
            raw_ft = re.sub(r":(\w+)", r"%(\1)s", ranked_statement(""))  # the statement retrieve() sends
            every_match = (
                "SELECT c.id, ts_rank(c.tsv, q, 32) AS r FROM file_chunks c, websearch_to_tsquery('english', %(q)s) q "
                "WHERE c.tenant_id = %(tenant)s AND c.retrievable AND c.tsv @@ q ORDER BY r DESC, c.id LIMIT 8")
            raw = engine.raw_connection()
            cursor = raw.cursor()

            def sql(statement: str, q: str) -> list:
                return cursor.execute(statement, {"q": q, "tenant": tenant_id, "matches": MAX_MATCHES,
                                                  "depth": 8}).fetchall()

            with Session(engine) as session:
                for q in queries[:20]:  # warm caches and the query-vector memo alike for every path
                    retrieve(session, tenant_id, q, mode="hybrid")
                    sql(raw_ft, q)
                    sql(every_match, q)
                ft = timed(lambda q: retrieve(session, tenant_id, q, mode="fulltext"), queries)
                hy = timed(lambda q: retrieve(session, tenant_id, q, mode="hybrid"), queries)
                base_ft = timed(lambda q: sql(raw_ft, q), queries)
                base_all = timed(lambda q: sql(every_match, q), queries)
                collection = store_collection_name(tenant_id)
                base_vec = timed(lambda q: index.search(collection, provider.embed_one(q), limit=50), queries)
                hits = sum(1 for q in queries[:50] if retrieve(session, tenant_id, q, mode="fulltext"))
            raw.close()
            engine.dispose()
            index.close()
        finally:
            stop_embedded_server(Path(tmp) / "pg")
    print(f"shared_buffers {args.shared_buffers or '128MB (stock)'}")
    print(f"load average at end: {Path('/proc/loadavg').read_text().strip()}")
    print(f"{args.chunks} chunks, {len(queries)} two-word queries ({hits}/50 with full-text matches), one client")
    print(f"full text: retrieve p50 {p(ft, 50):.2f} ms p95 {p(ft, 95):.2f} ms | raw SQL "
          f"p50 {p(base_ft, 50):.2f} ms p95 {p(base_ft, 95):.2f} ms | raw SQL ranking every match "
          f"p50 {p(base_all, 50):.2f} ms p95 {p(base_all, 95):.2f} ms")
    print(f"hybrid:    retrieve p50 {p(hy, 50):.2f} ms p95 {p(hy, 95):.2f} ms | bare vector search + embed "
          f"p50 {p(base_vec, 50):.2f} ms p95 {p(base_vec, 95):.2f} ms")


if __name__ == "__main__":
    main()
