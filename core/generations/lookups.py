"""Reading generations: a tenant's collection, its staging generation, embedding progress and
whether nothing is unfinished (the one readiness predicate the swap, the status and auto-promotion use).

A collection's records live in numbered generations. Exactly one is active (the one searches read,
`collections.active_generation`), at most one is staging (guaranteed by the partial unique index
`uq_generations_one_staging`). Each generation has its own vector collection
(`vector_collection_name`); the collection's alias (`vector_alias_name`) points at the active one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.generations.record_changes import RecordChanges, record_changes

UNFINISHED = ("pending", "processing", "failed")


@dataclass(frozen=True, slots=True)
class CollectionRef:
    """A tenant's collection and the number of its active generation."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    active_generation: int
    settings: dict[str, Any]


@dataclass(frozen=True, slots=True)
class GenerationRef:
    """One generation of a collection."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    number: int
    status: str
    record_count: int


def get_collection(db: Session, tenant_id: uuid.UUID, collection_name: str, *, lock: bool = False) -> CollectionRef:
    """The tenant's collection named `collection_name` (NotFound otherwise, also for other tenants' names);
    with `lock`, its row stays locked until the transaction ends (swaps and cancels serialise)."""
    sql = (
        "SELECT id, tenant_id, name, active_generation, settings FROM collections "
        "WHERE tenant_id = :t AND name = :n" + (" FOR UPDATE" if lock else "")
    )
    row = db.execute(sa.text(sql), {"t": tenant_id, "n": collection_name}).first()
    if row is None:
        raise NotFound(f"Vertical '{collection_name}' not found")
    return CollectionRef(row.id, row.tenant_id, row.name, row.active_generation, dict(row.settings or {}))


def staging_generation(db: Session, collection_id: uuid.UUID, *, lock: bool = False) -> GenerationRef | None:
    """The collection's staging generation, or None."""
    sql = (
        "SELECT id, tenant_id, collection_id, number, status, record_count FROM generations "
        "WHERE collection_id = :c AND status = 'staging'" + (" FOR UPDATE" if lock else "")
    )
    row = db.execute(sa.text(sql), {"c": collection_id}).first()
    return None if row is None else GenerationRef(*row)


def embedding_counts(db: Session, collection: CollectionRef, generation: int) -> dict[str, int]:
    """Records of one generation by embedding status (every status present, zero when none)."""
    rows = db.execute(
        sa.text(
            "SELECT embedding_status, count(*) FROM records "
            "WHERE tenant_id = :t AND collection_id = :c AND generation = :g GROUP BY embedding_status"
        ),
        {"t": collection.tenant_id, "c": collection.id, "g": generation},
    ).all()
    counts = {"pending": 0, "processing": 0, "indexed": 0, "failed": 0}
    counts.update({status: int(n) for status, n in rows})
    return counts


def nothing_unfinished_sql(collection: str, generation: str) -> str:
    """The SQL condition "no record of this generation is pending, processing or failed", for the
    collection id and generation number expressions given (`:c`, or a joined `c.id`). Two probes,
    each answered by a partial index (ix_records_embedding_queue, ix_records_embedding_failed), so
    readiness costs the same for 10k and 1M records."""
    return (
        f"NOT EXISTS (SELECT 1 FROM records r WHERE r.collection_id = {collection} AND r.generation = {generation} "
        "  AND r.embedding_status IN ('pending', 'processing')) "
        f"AND NOT EXISTS (SELECT 1 FROM records r WHERE r.collection_id = {collection} AND r.generation = {generation} "
        "  AND r.embedding_status = 'failed')"
    )


_FULLY_INDEXED = sa.text("SELECT " + nothing_unfinished_sql(":c", ":g"))


def fully_indexed(db: Session, collection_id: uuid.UUID, generation: int) -> bool:
    """Whether no record of the generation is pending, processing or failed."""
    return bool(db.execute(_FULLY_INDEXED, {"c": collection_id, "g": generation}).scalar_one())


def nothing_unfinished(counts: dict[str, int]) -> bool:
    """The same condition on counts by embedding status (`embedding_counts`)."""
    return not any(counts[status] for status in UNFINISHED)


@dataclass(frozen=True, slots=True)
class StagingProgress:
    """A pending replace: the staging generation, its records by embedding status, whether every one
    is indexed, and (keyed collections) what the swap would change."""

    staging: GenerationRef
    counts: dict[str, int]
    ready_to_swap: bool
    record_changes: RecordChanges | None


def replace_status(db: Session, tenant_id: uuid.UUID, collection_name: str) -> StagingProgress | None:
    """Embedding progress of the collection's staging generation; None when no replace is pending.
    A keyed collection's also counts the records added, changed and removed vs the live generation."""
    collection = get_collection(db, tenant_id, collection_name)
    staging = staging_generation(db, collection.id)
    if staging is None:
        return None
    counts = embedding_counts(db, collection, staging.number)
    changes = record_changes(db, collection.id, live=collection.active_generation, staging=staging.number)
    return StagingProgress(staging, counts, nothing_unfinished(counts), changes)
