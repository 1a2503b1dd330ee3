"""Building generations for the tests: a live vertical, and indexing generations for real with the
embedding pipeline (`core.embeddings.pipeline.run_embedding_pipeline`: the local MiniLM model, the
real vector index, records pending -> processing -> indexed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.embeddings.factory import get_embedding_provider
from core.embeddings.pipeline import run_embedding_pipeline
from core.ingestion.pipeline import ingest_records
from core.vectors.base import VectorIndex, vector_alias_name, vector_collection_name

DIMENSION = 384


def rows_for(batch: str, count: int, *, word: str = "widget") -> list[dict[str, Any]]:
    """`count` catalog rows, all tagged with `batch` (the generation they are meant for)."""
    return [
        {"name": f"{word} {batch} {i}", "sku": f"{batch[:2].upper()}-{i:05d}", "batch": batch, "price": i}
        for i in range(count)
    ]


def csv_for(batch: str, count: int, *, word: str = "widget") -> bytes:
    lines = ["name,sku,batch,price"]
    lines += [f"{r['name']},{r['sku']},{r['batch']},{r['price']}" for r in rows_for(batch, count, word=word)]
    return ("\n".join(lines) + "\n").encode()


def collection_id_of(db: Session, tenant_id: uuid.UUID | str, name: str) -> uuid.UUID:
    return db.execute(
        sa.text("SELECT id FROM collections WHERE tenant_id = :t AND name = :n"), {"t": tenant_id, "n": name}
    ).scalar_one()


def index_generation(
    db: Session, index: VectorIndex, tenant_id: uuid.UUID | str, name: str, generation: int
) -> int:
    """Run the real embedding pipeline (local MiniLM model, real vector index) over the vertical's live
    generations until `generation` has nothing pending; returns how many records it indexed."""
    collection_id = collection_id_of(db, tenant_id, name)
    db.commit()
    report = run_embedding_pipeline(
        db.get_bind(),
        uuid.UUID(str(tenant_id)),
        collection_id,
        provider=get_embedding_provider(),
        index=index,
    )
    assert report.stopped is None, report.stopped
    left = db.execute(
        sa.text(
            "SELECT count(*) FROM records WHERE collection_id = :c AND generation = :g "
            "AND embedding_status <> 'indexed'"
        ),
        {"c": collection_id, "g": generation},
    ).scalar_one()
    db.commit()
    assert left == 0, f"{left} records of generation {generation} not indexed"
    return report.indexed


def seed_live_vertical(
    db: Session, index: VectorIndex, tenant_id: uuid.UUID | str, name: str, rows: Sequence[dict[str, Any]]
) -> uuid.UUID:
    """A vertical whose generation 1 holds `rows`, indexed, with the alias pointing at it."""
    result = ingest_records(
        db,
        tenant_id=uuid.UUID(str(tenant_id)),
        collection_name=name,
        records=rows,
        entity_type="product",
        source_type="test",
    )
    db.commit()
    index_generation(db, index, tenant_id, name, 1)
    index.set_alias(
        vector_alias_name(tenant_id, result.collection_id),
        vector_collection_name(tenant_id, result.collection_id, 1),
    )
    return result.collection_id


def active_generation(db: Session, collection_id: uuid.UUID) -> int:
    value = db.execute(
        sa.text("SELECT active_generation FROM collections WHERE id = :c"), {"c": collection_id}
    ).scalar_one()
    db.commit()
    return value


def vector_batches(index: VectorIndex, name: str, text: str = "widget", limit: int = 50) -> set[str]:
    """The `batch` values of the points a vector search of `name` (alias or collection) returns."""
    vector = get_embedding_provider().embed_one(text)
    hits = index.search(name, vector, limit=limit)
    payloads = index.payloads(name, [h.id for h in hits])
    return {p["data"]["batch"] for p in payloads.values()}
