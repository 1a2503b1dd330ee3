"""Embedding pipeline throughput (records/s from pending to indexed) beside the bare model on the
same texts, in the same run.

Records are Debian package descriptions (`apt-cache dumpavail`) ingested into a fresh collection of a
fresh embedded PostgreSQL; the pipeline claims them, builds their texts, embeds, stores vectors with
payloads and marks them indexed. The baseline is the same model object (`LocalMiniLMProvider`,
same batch size) embedding the very texts the pipeline builds, with nothing else: no database, no
vector store. Model and pipeline passes alternate (model, pipeline, model, ...) so load drift on a
shared machine hits both; the ratio uses the mean of the model passes around each pipeline pass.

    .venv/bin/python bench/embed_pipeline.py [--records 2000] [--batch-size 128] [--no-readme]

Figures are appended to bench/README.md under "Embeddings".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from core.db.embedded import ensure_database, start_embedded_server  # noqa: E402
from core.db.engine import make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.embeddings.local_minilm import LocalMiniLMProvider, available_cores  # noqa: E402
from core.embeddings.pipeline import PipelineOptions, run_embedding_pipeline  # noqa: E402
from core.embeddings.text import build_embedding_text  # noqa: E402
from core.ingestion import ingest_records  # noqa: E402
from core.tenants.service import create_tenant  # noqa: E402
from core.vectors.base import VectorIndex  # noqa: E402

README = Path(__file__).resolve().parent / "README.md"


def debian_stanzas() -> Iterator[dict[str, str]]:
    """The fields of each package `apt-cache dumpavail` lists; a continuation line is joined to its
    field's value after a newline."""
    dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    for block in dump.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith(" ") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        yield fields


def debian_packages(
    limit: int | None = None, *, include: set[str] | frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Debian packages as structured records (`name`, `record_type` = section, `description_llm` =
    summary, long description and a few fields in `collection_data`), `limit` of them spread over the
    archive, plus every package named in `include`. One record per package name."""
    seen: dict[str, dict[str, Any]] = {}
    for fields in debian_stanzas():
        name = fields.get("Package")
        if not name or "Description" not in fields or name in seen:
            continue
        summary, _, long = fields["Description"].partition("\n")
        seen[name] = {
            "name": name,
            "record_type": (fields.get("Section") or "package").replace("/", "_")[:100],
            "description_llm": summary,
            "collection_data": {
                "long_description": " ".join(long.replace("\n.", "\n").split())[:2000],
                "version": fields.get("Version"),
                "priority": fields.get("Priority"),
                "installed_size_kb": int(fields["Installed-Size"])
                if fields.get("Installed-Size", "").isdigit()
                else None,
            },
        }
    if not seen:
        raise SystemExit("apt-cache dumpavail gave no packages: run `apt-get update` first")
    packages = list(seen.values())
    if limit is None:
        return packages
    step = max(1, len(packages) // limit)
    chosen = {p["name"]: p for p in packages[::step][:limit]}
    chosen.update({n: seen[n] for n in include if n in seen})
    return list(chosen.values())


def fresh_database(label: str) -> str:
    """A migrated database on a throwaway embedded PostgreSQL (its folder is left to the OS tmp)."""
    pg_dir = Path(tempfile.mkdtemp(prefix=f"kariz-bench-{label}-")) / "pg"
    url = ensure_database(start_embedded_server(pg_dir), "bench")
    upgrade(url)
    return url


def append_to_readme(section: str, block: str) -> None:
    """Put `block` at the end of `## section` in bench/README.md (created when missing), leaving the
    other sections (which other benchmarks append to) as they are."""
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    heading = f"\n## {section}\n"
    if heading not in text:
        text = text.rstrip("\n") + "\n" + heading
    start = text.index(heading) + len(heading)
    following = text.find("\n## ", start)
    end = len(text) if following < 0 else following
    text = (
        text[:end].rstrip("\n")
        + "\n\n"
        + block.strip("\n")
        + "\n"
        + ("\n" + text[end:].lstrip("\n") if following >= 0 else "")
    )
    README.write_text(text)
    print(f"appended to {README} under '{section}'")


def ingest(engine: sa.Engine, packages: list[dict[str, Any]], collection: str) -> tuple[uuid.UUID, uuid.UUID]:
    with Session(engine) as s:
        tenant = create_tenant(s, f"bench-{uuid.uuid4().hex[:8]}")
        s.commit()
        tenant_id = tenant.id
        result = ingest_records(
            s,
            tenant_id=tenant_id,
            collection_name=collection,
            records=packages,
            entity_type="package",
            source_type="bench",
        )
        s.commit()
    return tenant_id, result.collection_id


def record_texts(engine: sa.Engine, collection_id: uuid.UUID) -> list[str]:
    """The texts the pipeline embeds for the collection's records, in claim order."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT name, record_type, description_llm, collection_data FROM records "
                "WHERE collection_id = :c ORDER BY created_at, id"
            ),
            {"c": collection_id},
        ).all()
    return [build_embedding_text(*row) for row in rows]


def model_rate(provider: LocalMiniLMProvider, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        provider.embed(texts[start : start + batch_size])
    return len(texts) / (time.perf_counter() - started)


def pipeline_rate(
    engine: sa.Engine,
    index: VectorIndex,
    provider: LocalMiniLMProvider,
    packages: list[dict[str, Any]],
    options: PipelineOptions,
) -> tuple[float, dict[str, Any], list[str]]:
    tenant_id, collection_id = ingest(engine, packages, f"p{uuid.uuid4().hex[:8]}")
    texts = record_texts(engine, collection_id)
    report = run_embedding_pipeline(
        engine, tenant_id, collection_id, provider=provider, index=index, options=options
    )
    if report.indexed != len(packages) or report.stopped:
        raise SystemExit(f"pipeline did not index everything: {report.to_metadata()}")
    return report.texts_per_s, report.to_metadata(), texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=PipelineOptions().batch_size)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    packages = debian_packages(args.records)
    url = fresh_database("embed")
    engine = make_sync_engine(url)
    provider = LocalMiniLMProvider()
    from core.vectors.pgvector import PgVectorIndex
    from core.vectors.qdrant import QdrantIndex

    pgvector = PgVectorIndex(url)
    qdrant = QdrantIndex(":memory:")
    provider.embed(["warm up the arenas"] * 64)
    variants = [
        (
            "pipeline -> pgvector, HNSW maintained per batch",
            pgvector,
            PipelineOptions(batch_size=args.batch_size),
        ),
        (
            "pipeline -> pgvector, index deferred and built at the end (included)",
            pgvector,
            PipelineOptions(batch_size=args.batch_size, defer_index_backlog=1),
        ),
        ("pipeline -> Qdrant local mode", qdrant, PipelineOptions(batch_size=args.batch_size)),
    ]
    rows = []
    texts: list[str] = []
    for name, index, options in variants:
        before = model_rate(provider, texts, args.batch_size) if texts else None
        rate, meta, texts = pipeline_rate(engine, index, provider, packages, options)
        before = before or model_rate(provider, texts, args.batch_size)
        after = model_rate(provider, texts, args.batch_size)
        model = (before + after) / 2
        rows.append((name, rate, model, rate / model, meta))
        print(
            f"{name}: {rate:.1f} records/s; model alone {model:.1f} texts/s; pipeline/model {rate / model:.0%}"
        )
    load = (load_before + os.getloadavg()[0]) / 2
    print(f"load average ~{load:.1f} on {available_cores()} cores")
    if args.no_readme:
        return
    block = "\n".join(
        [
            f"### Embedding pipeline throughput — {dt.date.today().isoformat()}, {available_cores()} cores",
            "",
            f"`bench/embed_pipeline.py --records {len(packages)} --batch-size {args.batch_size}`: Debian package records"
            " from pending to indexed through `run_embedding_pipeline` (claim with SKIP LOCKED, build texts, embed,"
            " upsert vectors + payloads, mark indexed; storing batch N overlaps embedding batch N+1), beside the same"
            " `LocalMiniLMProvider` embedding the very same texts alone, measured right before and after each"
            " pipeline pass (mean). Target: pipeline >= 80% of the model.",
            "",
            "| pipeline | records | pipeline records/s | model alone texts/s | pipeline / model |",
            "| --- | ---: | ---: | ---: | ---: |",
            *[
                f"| {name} | {len(packages):,} | {rate:.1f} | {model:.1f} | {ratio:.0%} |"
                for name, rate, model, ratio, _ in rows
            ],
            "",
            f"Load average during the run ~{load:.1f} on {available_cores()} cores (shared machine: compare the"
            " ratios, not the absolute rates).",
        ]
    )
    append_to_readme("Embeddings", block)


if __name__ == "__main__":
    main()
