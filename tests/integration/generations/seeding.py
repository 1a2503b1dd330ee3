"""Building generations for the tests: a live vertical, and indexing a generation for real.

The embedding pipeline (pending -> processing -> indexed) is not in the tree yet, so
`index_generation` does what it will do, with the real pieces: the real local MiniLM model embeds
each record's embedding text, the real vector index stores the points in the generation's vector
collection, and the records are then marked `indexed`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.embeddings.providers import get_embedding_provider
from core.embeddings.text import build_embedding_text
from core.ingestion.pipeline import ingest_records
from core.vectors.base import VectorIndex, vector_alias_name, vector_collection_name
from core.vectors.payloads import build_point_payload

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
    """Embed the pending records of one generation into its vector collection and mark them indexed."""
    collection_id = collection_id_of(db, tenant_id, name)
    rows = db.execute(
        sa.text(
            "SELECT id, name, record_type, description_llm, collection_data, status FROM records "
            "WHERE collection_id = :c AND generation = :g AND embedding_status <> 'indexed' ORDER BY id"
        ),
        {"c": collection_id, "g": generation},
    ).all()
    target = vector_collection_name(tenant_id, collection_id, generation)
    index.create_collection(target, DIMENSION)
    if rows:
        provider = get_embedding_provider()
        vectors = provider.embed(
            [build_embedding_text(r.name, r.record_type, r.description_llm, r.collection_data) for r in rows]
        )
        payloads = [
            build_point_payload(
                tenant_id=tenant_id,
                collection=name,
                generation=generation,
                record_type=r.record_type,
                status=r.status,
                collection_data=r.collection_data,
            )
            for r in rows
        ]
        index.upsert(target, [r.id for r in rows], vectors, payloads)
        db.execute(
            sa.text("UPDATE records SET embedding_status = 'indexed' WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": [r.id for r in rows]},
        )
    db.commit()
    return len(rows)


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
