"""Kariz's keyword search beside real BM25 engines on the same real catalog and the same queries.

Corpus: every Debian package `apt-cache dumpavail` knows (~63k: name, section, summary, long
description), loaded into Kariz (a fresh embedded PostgreSQL) and into two peers in this process:
Tantivy (`tantivy`, BM25 with field boosts name 3 > summary 2 > description 1) and `bm25s` (BM25
over name + summary + description). Peers are benchmark-only dependencies (`pip install bm25s tantivy`).

Query sets (written to bench/queries/ so anyone can rerun them; regenerated when missing):
  * names      - 400 package names, verbatim (the known item: that package);
  * spaced     - 150 of those names with separators as spaces or removed and case changed
                 (`python3-yaml` -> `Python3 Yaml`), which Kariz's name key folds;
  * summaries  - 300 package summaries that no other package shares (known-item keyword search).
For each engine and class: top-1 (the labelled package first), recall@10 and MRR@10; latency
p50/p95 per query, in process for all three (Kariz: `core.search.search` on an asyncpg connection,
full-text mode, cache off; peers: their own search call).

    .venv/bin/python bench/search_peer.py [--names 400] [--summaries 300] [--no-readme]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from bench.embed_pipeline import append_to_readme, debian_packages, fresh_database, ingest  # noqa: E402
from bench.hybrid_search import NoCache, pct  # noqa: E402
from core.db.engine import make_async_engine, make_sync_engine  # noqa: E402
from core.records.names import name_key  # noqa: E402
from core.search import SearchRequest, search  # noqa: E402

QUERIES = Path(__file__).resolve().parent / "queries"
K = 10


def query_sets(packages: list[dict[str, Any]], n_names: int, n_summaries: int) -> dict[str, list[tuple[str, str]]]:
    """(query, labelled package) per class, read from bench/queries/ or built (seeded) and written there."""
    files = {c: QUERIES / f"debian_{c}.tsv" for c in ("names", "spaced", "summaries")}
    if all(f.exists() for f in files.values()):
        known = {p["name"] for p in packages}
        return {
            c: [(q, t) for q, t in (line.split("\t") for line in f.read_text().splitlines() if line) if t in known]
            for c, f in files.items()
        }
    rng = random.Random(16)
    keys: dict[str, int] = {}
    summaries: dict[str, int] = {}
    for p in packages:
        keys[name_key(p["name"])] = keys.get(name_key(p["name"]), 0) + 1
        summaries[p["description_llm"].lower()] = summaries.get(p["description_llm"].lower(), 0) + 1
    # names that are one package's alone once folded (python-yaml and pythonyaml would be two answers)
    unique_names = [p["name"] for p in packages if keys[name_key(p["name"])] == 1]
    names = rng.sample(unique_names, n_names)
    spaced = []
    for name in names[:150]:
        parts = re.split(r"[-._+]+", name)
        spaced.append((rng.choice([" ", ""]).join(parts).title() if len(parts) > 1 else name.upper(), name))
    candidates = [
        p for p in packages if summaries[p["description_llm"].lower()] == 1 and len(p["description_llm"].split()) >= 3
    ]
    chosen = rng.sample(candidates, n_summaries)
    sets = {
        "names": [(n, n) for n in names],
        "spaced": spaced,
        "summaries": [(p["description_llm"], p["name"]) for p in chosen],
    }
    QUERIES.mkdir(exist_ok=True)
    for c, rows in sets.items():
        files[c].write_text("".join(f"{q}\t{t}\n" for q, t in rows))
    return sets


class Tantivy:
    name = "tantivy"

    def __init__(self, packages: list[dict[str, Any]]) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("pkg", stored=True, tokenizer_name="raw")
        for field in ("name", "summary", "long"):
            builder.add_text_field(field, stored=False, tokenizer_name="en_stem")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema)
        writer = self.index.writer(heap_size=200_000_000, num_threads=1)
        for p in packages:
            writer.add_document(
                tantivy.Document(
                    pkg=p["name"],
                    name=p["name"].replace("-", " ").replace(".", " "),
                    summary=p["description_llm"],
                    long=p["collection_data"]["long_description"],
                )
            )
        writer.commit()
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, query: str) -> list[str]:
        parsed, _errors = self.index.parse_query_lenient(
            query, ["name", "summary", "long"], field_boosts={"name": 3.0, "summary": 2.0}
        )
        hits = self.searcher.search(parsed, K).hits
        return [self.searcher.doc(address)["pkg"][0] for _score, address in hits]


class BM25S:
    name = "bm25s"

    def __init__(self, packages: list[dict[str, Any]]) -> None:
        import bm25s

        self.bm25s = bm25s
        self.names = [p["name"] for p in packages]
        corpus = [
            f"{p['name'].replace('-', ' ')} {p['description_llm']} {p['collection_data']['long_description']}"
            for p in packages
        ]
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)

    def search(self, query: str) -> list[str]:
        tokens = self.bm25s.tokenize([query.replace("-", " ")], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        docs, _scores = self.retriever.retrieve(tokens, k=K, show_progress=False)
        return [self.names[i] for i in docs[0]]


def scores(results: list[list[str]], targets: list[str]) -> dict[str, float]:
    top1 = sum(1 for r, t in zip(results, targets, strict=True) if r[:1] == [t])
    recall = sum(1 for r, t in zip(results, targets, strict=True) if t in r[:K])
    mrr = sum(1 / (r.index(t) + 1) for r, t in zip(results, targets, strict=True) if t in r[:K])
    n = len(targets)
    return {"top1": top1 / n, "recall@10": recall / n, "mrr@10": mrr / n}


async def kariz_run(url: str, tenant_id, collection: str, queries: list[str]) -> tuple[list[list[str]], list[float]]:
    engine = make_async_engine(url)
    results, times = [], []
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            session = AsyncSession(bind=conn)
            for q in queries[:20]:  # warm the plans and the connection
                await search(session, tenant_id, collection, SearchRequest(query=q, limit=K, search_mode="fulltext"),
                             cache=NoCache())
            for q in queries:
                t0 = time.perf_counter()
                response = await search(
                    session, tenant_id, collection, SearchRequest(query=q, limit=K, search_mode="fulltext"),
                    cache=NoCache(),
                )
                times.append((time.perf_counter() - t0) * 1000)
                results.append([h.name for h in response.results])
    finally:
        await engine.dispose()
    return results, times


def peer_run(peer: Any, queries: list[str]) -> tuple[list[list[str]], list[float]]:
    results, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        results.append(peer.search(q))
        times.append((time.perf_counter() - t0) * 1000)
    return results, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=400)
    parser.add_argument("--summaries", type=int, default=300)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()

    packages = debian_packages()
    sets = query_sets(packages, args.names, args.summaries)
    print(f"corpus: {len(packages)} Debian packages; queries: " + ", ".join(f"{c} {len(v)}" for c, v in sets.items()))

    url = fresh_database("peer")
    sync = make_sync_engine(url)
    t0 = time.perf_counter()
    tenant_id, _ = ingest(sync, packages, "packages")
    with sync.begin() as conn:
        conn.execute(sa.text("ANALYZE records"))
    sync.dispose()
    print(f"kariz: ingested in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    peers = [Tantivy(packages), BM25S(packages)]
    print(f"peers: indexed in {time.perf_counter() - t0:.1f} s")

    rows = []
    for cls, pairs in sets.items():
        queries = [q for q, _ in pairs]
        targets = [t for _, t in pairs]
        runs = {"kariz": asyncio.run(kariz_run(url, tenant_id, "packages", queries))}
        for peer in peers:
            runs[peer.name] = peer_run(peer, queries)
        for engine_name, (results, times) in runs.items():
            s = scores(results, targets)
            rows.append(
                f"| {cls} ({len(pairs)}) | {engine_name} | {s['top1']:.1%} | {s['recall@10']:.1%} | "
                f"{s['mrr@10']:.3f} | {pct(times, 50):.2f} | {pct(times, 95):.2f} |"
            )
    load = os.getloadavg()[0]
    table = "\n".join(
        [
            "| query class | engine | top-1 | recall@10 | MRR@10 | p50 ms | p95 ms |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]
    )
    print(table)
    if not args.no_readme:
        append_to_readme(
            "Search beside a search engine",
            f"`bench/search_peer.py` on {dt.date.today()}, {len(packages)} Debian packages, queries in "
            f"`bench/queries/`; all three in process (Kariz: `core.search.search`, full text, cache off); "
            f"load average {load:.1f} at the end (the machine was shared).\n\n{table}",
        )


if __name__ == "__main__":
    main()
