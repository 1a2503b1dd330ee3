"""Swap and cancel: promote the staging generation live, or drop it; and the auto-promote switch.

The swap is O(1) in the size of the generations: it flips three rows (old generation archived,
staging active, the collection's pointer) and moves the alias, all under the collection's row lock.
Record rows of the old generation are archived afterwards in batches
(`core.generations.maintenance.archive_generation_records`), which searches never notice because
they filter on the active generation.

`swap` and `cancel_replace` commit themselves, the one justified exception to the session rule
(`core/db/README.md`): they order their commit against a vector store that may not share the
transaction. `set_auto_promote` leaves the commit to its caller.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.collections import events
from core.errors import Conflict
from core.generations.lookups import GenerationRef, fully_indexed, get_collection, staging_generation
from core.generations.record_changes import RecordChanges, record_changes
from core.records.searchable import bump_search_version
from core.vectors.base import VectorIndex, vector_alias_name, vector_collection_name

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SwapResult:
    """What a swap did (the API renders it as `SwapView`)."""

    collection: str
    old_generation: int
    new_generation: int
    old_entity_count: int
    new_entity_count: int
    collection_id: uuid.UUID
    alias: str
    vector_collection: str
    duration_ms: float
    record_changes: RecordChanges | None = None  # keyed collections: added/changed/removed vs the live one



@dataclass(frozen=True, slots=True)
class CancelResult:
    """What a cancel did (the API renders it as `CancelView`)."""

    collection: str
    cancelled_generation: int
    entities_archived: int
    vectors_dropped: bool



def _restore_alias(index: VectorIndex, alias: str, previous: str | None, moved_to: str) -> None:
    """Put a non-transactional alias back where it was after the database refused the swap."""
    try:
        if previous is None:
            index.delete_alias(alias)
        else:
            index.swap_alias(alias, previous, expected=moved_to)
    except Exception:  # reconcile_aliases repairs it from the database later
        log.exception("could not move alias %s back to %s; reconcile_aliases will", alias, previous)


def swap(
    db: Session,
    tenant_id: uuid.UUID,
    collection_name: str,
    index: VectorIndex,
    *,
    generation: int | None = None,
) -> SwapResult:
    """Promote the staging generation: it becomes active, the active one archived, the collection
    points at it, and the vector alias moves to its vector collection. Either all of it is committed
    or none (a transactional vector store joins the transaction; otherwise the alias is moved back
    when the commit fails). Conflict when there is no staging generation (or it is not `generation`)
    or any of its records is pending, processing or failed. Cost does not depend on record counts."""
    started = time.perf_counter()
    # a keyed collection's record changes are counted before the locks (a pass over both
    # generations; the live one takes no writes while a replace is pending), so the locked part
    # stays independent of record counts
    unlocked = get_collection(db, tenant_id, collection_name)
    pending = staging_generation(db, unlocked.id)
    changes = (
        record_changes(db, unlocked.id, live=unlocked.active_generation, staging=pending.number)
        if pending is not None
        else None
    )
    collection = get_collection(db, tenant_id, collection_name, lock=True)
    staging = staging_generation(db, collection.id, lock=True)
    if staging is None:
        raise Conflict(f"No staging generation to swap for vertical '{collection_name}'")
    if generation is not None and staging.number != generation:
        raise Conflict(f"the staging generation of '{collection_name}' is {staging.number}, not {generation}")
    if not fully_indexed(db, collection.id, staging.number):
        raise Conflict(f"Staging generation {staging.number} of '{collection_name}' is not fully indexed")
    alias = vector_alias_name(tenant_id, collection.id)
    target = vector_collection_name(tenant_id, collection.id, staging.number)
    if not index.collection_exists(target):
        raise Conflict(f"the vector collection of staging generation {staging.number} is missing; cancel it")
    previous = index.resolve_alias(alias)

    old = db.execute(
        sa.text(
            "UPDATE generations SET status = 'archived', archived_at = now() "
            "WHERE collection_id = :c AND status = 'active' RETURNING number, record_count"
        ),
        {"c": collection.id},
    ).first()
    db.execute(
        sa.text("UPDATE generations SET status = 'active', activated_at = now() WHERE id = :id"),
        {"id": staging.id},
    )
    db.execute(
        sa.text("UPDATE collections SET active_generation = :g, updated_at = now() WHERE id = :c"),
        {"g": staging.number, "c": collection.id},
    )
    bump_search_version(db, collection.id)

    if index.transactional_aliases:
        try:
            index.swap_alias(alias, target, expected=previous, transaction=db)
            db.commit()  # the alias row commits with the generations, or neither does
        except BaseException:
            db.rollback()
            raise
    else:
        try:
            index.swap_alias(alias, target, expected=previous)
        except BaseException:
            db.rollback()
            raise
        try:
            db.commit()
        except BaseException:
            _restore_alias(index, alias, previous, target)
            db.rollback()
            raise
    result = SwapResult(
        collection=collection_name,
        old_generation=old.number if old is not None else collection.active_generation,
        new_generation=staging.number,
        old_entity_count=int(old.record_count) if old is not None else 0,
        new_entity_count=int(staging.record_count),
        collection_id=collection.id,
        alias=alias,
        vector_collection=target,
        duration_ms=(time.perf_counter() - started) * 1000,
        record_changes=changes if pending is not None and pending.number == staging.number else None,
    )
    _emit_swap(db, result)
    log.info(
        "swapped %s/%s: generation %d -> %d (alias %s -> %s) in %.1f ms",
        tenant_id,
        collection_name,
        result.old_generation,
        result.new_generation,
        alias,
        target,
        result.duration_ms,
    )
    return result


def _emit_swap(db: Session, result: SwapResult) -> None:
    """The committed swap as a `collection_generation` event: the live generation and its records."""
    names = events.names_of(db, result.collection_id)
    if names is None:
        return
    changes = result.record_changes
    metadata = {
        "operation": "swap",
        "generation": result.new_generation,
        "previous_generation": result.old_generation,
        "active_records": result.new_entity_count,
        "previous_records": result.old_entity_count,
        "vector_collection": result.vector_collection,
        "swap_ms": round(result.duration_ms, 1),
    }
    if changes is not None:
        metadata["record_changes"] = dataclasses.asdict(changes)
    events.emit(names.event(events.GENERATION,
                            f"generation {result.new_generation} of {names.collection} is live "
                            f"(was {result.old_generation})", metadata))


def drop_vectors(db: Session, index: VectorIndex, generation: GenerationRef) -> bool:
    """Drop a dead generation's vector collection and note it; False when the store refused."""
    name = vector_collection_name(generation.tenant_id, generation.collection_id, generation.number)
    try:
        index.drop_collection(name)
    except Conflict:  # still aliased: reconcile_aliases moves the alias first
        log.warning("vector collection %s is still aliased; not dropped", name)
        return False
    db.execute(
        sa.text("UPDATE generations SET vectors_dropped_at = now() WHERE id = :id"), {"id": generation.id}
    )
    db.commit()
    return True


def cancel_replace(db: Session, tenant_id: uuid.UUID, collection_name: str, index: VectorIndex) -> CancelResult:
    """Cancel the staging generation: it becomes cancelled, its records archived, its vector
    collection dropped; the active generation is untouched. Conflict when nothing is staged."""
    collection = get_collection(db, tenant_id, collection_name, lock=True)
    staging = staging_generation(db, collection.id, lock=True)
    if staging is None:
        raise Conflict(f"No staging generation to cancel for vertical '{collection_name}'")
    db.execute(
        sa.text("UPDATE generations SET status = 'cancelled', archived_at = now() WHERE id = :id"),
        {"id": staging.id},
    )
    archived = db.execute(
        sa.text(
            "UPDATE records SET status = 'archived', updated_at = now() "
            "WHERE tenant_id = :t AND collection_id = :c AND generation = :g AND status = 'active'"
        ),
        {"t": tenant_id, "c": collection.id, "g": staging.number},
    ).rowcount
    db.commit()
    # after the commit: a failure here leaves a cancelled generation whose vectors the cleanup drops
    try:
        dropped = drop_vectors(db, index, staging)
    except Exception:
        log.exception(
            "dropping the vectors of cancelled generation %d of %s failed", staging.number, collection_name
        )
        dropped = False
    return CancelResult(collection_name, staging.number, int(archived), dropped)


def set_auto_promote(db: Session, tenant_id: uuid.UUID, collection_name: str, enabled: bool) -> None:
    """Switch auto-promotion of ready staging generations on or off for one collection (the caller
    commits)."""
    collection = get_collection(db, tenant_id, collection_name, lock=True)
    db.execute(
        sa.text(
            "UPDATE collections SET settings = settings || jsonb_build_object('auto_promote', CAST(:on AS boolean)), "
            "updated_at = now() WHERE id = :c"
        ),
        {"on": bool(enabled), "c": collection.id},
    )
