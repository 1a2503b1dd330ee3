"""Generation maintenance for Dagster: auto-promotion candidates, archiving dead generations'
records in committed batches, dropping expired vectors and reconciling aliases.

These are background runners: they commit per step (short transactions, resumable), and those that
touch the vector store order each commit against it (`core/db/README.md`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import Conflict, NotFound
from core.generations.lookups import GenerationRef, nothing_unfinished_sql
from core.generations.swapping import drop_vectors
from core.vectors.base import VectorIndex, vector_alias_name, vector_collection_name

log = logging.getLogger(__name__)

ARCHIVE_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class PromotionCandidate:
    """A staging generation of an auto-promote collection whose records are all indexed."""

    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    collection_name: str
    generation: int
    record_count: int


def promotion_candidates(db: Session) -> list[PromotionCandidate]:
    """Staging generations, with at least one record and all of them indexed, of collections whose
    settings have `auto_promote` true."""
    rows = db.execute(
        sa.text(
            "SELECT c.tenant_id, c.id, c.name, g.number, g.record_count FROM collections c "
            "JOIN generations g ON g.collection_id = c.id AND g.status = 'staging' "
            "WHERE c.settings @> '{\"auto_promote\": true}'::jsonb AND g.record_count > 0 "
            "AND " + nothing_unfinished_sql("c.id", "g.number") + " ORDER BY c.id"
        )
    ).all()
    return [PromotionCandidate(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]


def generations_awaiting_record_archival(db: Session) -> list[GenerationRef]:
    """Archived or cancelled generations that still hold records with status 'active'."""
    rows = db.execute(
        sa.text(
            "SELECT g.id, g.tenant_id, g.collection_id, g.number, g.status, g.record_count FROM generations g "
            "WHERE g.status IN ('archived', 'cancelled') AND EXISTS (SELECT 1 FROM records r "
            "  WHERE r.tenant_id = g.tenant_id AND r.collection_id = g.collection_id "
            "  AND r.generation = g.number AND r.status = 'active') "
            "ORDER BY g.archived_at NULLS FIRST, g.number"
        )
    ).all()
    return [GenerationRef(*row) for row in rows]


def archive_generation_records(
    db: Session, collection_id: uuid.UUID, generation: int, *, batch_size: int = ARCHIVE_BATCH
) -> int:
    """Set status 'archived' on the active records of an archived or cancelled generation, one
    committed batch at a time (short transactions, resumable); returns how many changed.
    Conflict for an active or staging generation."""
    row = db.execute(
        sa.text("SELECT tenant_id, status FROM generations WHERE collection_id = :c AND number = :g"),
        {"c": collection_id, "g": generation},
    ).first()
    if row is None:
        raise NotFound(f"generation {generation} of collection {collection_id} not found")
    if row.status not in ("archived", "cancelled"):
        raise Conflict(f"generation {generation} is {row.status}; only dead generations are archived")
    db.commit()
    total = 0
    while True:
        changed = db.execute(
            sa.text(
                "UPDATE records SET status = 'archived', updated_at = now() WHERE id IN ("
                "  SELECT id FROM records WHERE tenant_id = :t AND collection_id = :c AND generation = :g "
                "  AND status = 'active' LIMIT :n FOR UPDATE SKIP LOCKED)"
            ),
            {"t": row.tenant_id, "c": collection_id, "g": generation, "n": batch_size},
        ).rowcount
        db.commit()
        total += changed
        if changed < batch_size:
            return total


def drop_expired_vectors(db: Session, index: VectorIndex, retention: timedelta) -> list[dict[str, Any]]:
    """Drop the vector collections of cancelled generations and of generations archived longer
    than `retention` ago (once; `vectors_dropped_at` notes it). Returns what was dropped."""
    rows = db.execute(
        sa.text(
            "SELECT id, tenant_id, collection_id, number, status, record_count FROM generations "
            "WHERE vectors_dropped_at IS NULL AND (status = 'cancelled' "
            "  OR (status = 'archived' AND archived_at < now() - make_interval(secs => :s))) "
            "ORDER BY archived_at"
        ),
        {"s": retention.total_seconds()},
    ).all()
    db.commit()
    dropped = []
    for row in rows:
        generation = GenerationRef(*row)
        if drop_vectors(db, index, generation):
            dropped.append(
                {
                    **asdict(generation),
                    "id": str(generation.id),
                    "tenant_id": str(generation.tenant_id),
                    "collection_id": str(generation.collection_id),
                }
            )
    return dropped


def reconcile_aliases(db: Session, index: VectorIndex) -> list[dict[str, Any]]:
    """Point every collection's alias at its active generation's vector collection (when that
    exists), repairing what an interrupted swap on a non-transactional store left behind. A
    collection whose row is locked (a swap in progress) is left to that swap. Returns the moves."""
    current = index.aliases()
    rows = db.execute(sa.text("SELECT id, tenant_id, active_generation FROM collections")).all()
    db.commit()
    moved = []
    for collection_id, tenant_id, active in rows:
        alias = vector_alias_name(tenant_id, collection_id)
        if current.get(alias) == vector_collection_name(tenant_id, collection_id, active):
            continue
        locked = db.execute(
            sa.text("SELECT active_generation FROM collections WHERE id = :c FOR UPDATE SKIP LOCKED"),
            {"c": collection_id},
        ).first()
        if locked is None:  # gone, or a swap holds it: that swap settles the alias
            db.rollback()
            continue
        target = vector_collection_name(tenant_id, collection_id, locked.active_generation)
        before = index.resolve_alias(alias)
        if before != target and index.collection_exists(target):
            index.swap_alias(alias, target, expected=before)
            moved.append(
                {"alias": alias, "from": before, "to": target, "generation": locked.active_generation}
            )
            log.warning("reconciled alias %s: %s -> %s", alias, before, target)
        db.commit()
    return moved
