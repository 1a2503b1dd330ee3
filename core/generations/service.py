"""Blue-green replace of a collection: a staging generation, its readiness, the atomic swap, cancel.

A collection's records live in numbered generations. Exactly one is active (the one searches read,
`collections.active_generation`), at most one is staging (guaranteed by the partial unique index
`uq_generations_one_staging`). Each generation has its own vector collection
(`vector_collection_name`); the collection's alias (`vector_alias_name`) points at the active one.

The swap is O(1) in the size of the generations: it flips three rows (old generation archived,
staging active, the collection's pointer) and moves the alias, all under the collection's row lock.
Record rows of the old generation are archived afterwards in batches (`archive_generation_records`),
which searches never notice because they filter on the active generation.

Every function here takes a sync SQLAlchemy Session and commits its own work: the swap must order
its commit against a vector store that may not share the transaction. The API calls these in a
worker thread; Dagster ops call them directly.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import core.settings
from core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, QuotaExceeded, ValidationFailed
from core.ingestion.formats import parse_file
from core.ingestion.pipeline import ingest_records
from core.ingestion.rows import ParsedRow
from core.records.searchable import bump_search_version
from core.settings import Settings
from core.vectors.base import VectorIndex, vector_alias_name, vector_collection_name

log = logging.getLogger(__name__)

ARCHIVE_BATCH = 10_000
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


@dataclass(frozen=True, slots=True)
class SwapResult:
    """What a swap did; `to_dict()` is the contract's response."""

    vertical: str
    old_generation: int
    new_generation: int
    old_entity_count: int
    new_entity_count: int
    collection_id: uuid.UUID
    alias: str
    vector_collection: str
    duration_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "vertical": self.vertical,
            "old_generation": self.old_generation,
            "new_generation": self.new_generation,
            "old_entity_count": self.old_entity_count,
            "new_entity_count": self.new_entity_count,
        }


@dataclass(frozen=True, slots=True)
class CancelResult:
    """What a cancel did; `to_dict()` is the contract's response."""

    vertical: str
    cancelled_generation: int
    entities_archived: int
    vectors_dropped: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "vertical": self.vertical,
            "cancelled_generation": self.cancelled_generation,
            "entities_archived": self.entities_archived,
        }


@dataclass(frozen=True, slots=True)
class PromotionCandidate:
    """A staging generation of an auto-promote collection whose records are all indexed."""

    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    vertical: str
    generation: int
    record_count: int


# --- reading -------------------------------------------------------------------------------------


def get_collection(db: Session, tenant_id: uuid.UUID, vertical: str, *, lock: bool = False) -> CollectionRef:
    """The tenant's collection named `vertical` (NotFound otherwise, also for other tenants' names);
    with `lock`, its row stays locked until the transaction ends (swaps and cancels serialise)."""
    sql = (
        "SELECT id, tenant_id, name, active_generation, settings FROM collections "
        "WHERE tenant_id = :t AND name = :n" + (" FOR UPDATE" if lock else "")
    )
    row = db.execute(sa.text(sql), {"t": tenant_id, "n": vertical}).first()
    if row is None:
        raise NotFound(f"Vertical '{vertical}' not found")
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


_UNFINISHED_EXISTS = sa.text(
    # two probes, each answered by a partial index (ix_records_embedding_queue, ix_records_embedding_failed),
    # so readiness costs the same for 10k and 1M records
    "SELECT EXISTS (SELECT 1 FROM records WHERE collection_id = :c AND generation = :g "
    "  AND embedding_status IN ('pending', 'processing')) "
    "OR EXISTS (SELECT 1 FROM records WHERE collection_id = :c AND generation = :g AND embedding_status = 'failed')"
)


def fully_indexed(db: Session, collection_id: uuid.UUID, generation: int) -> bool:
    """Whether no record of the generation is pending, processing or failed."""
    unfinished = db.execute(_UNFINISHED_EXISTS, {"c": collection_id, "g": generation}).scalar_one()
    return not unfinished


def replace_status(db: Session, tenant_id: uuid.UUID, vertical: str) -> dict[str, Any]:
    """The contract's replace-status: counts of the staging generation by embedding status and
    `ready_to_swap` (every record indexed); every field but `has_pending_replace` null when none."""
    collection = get_collection(db, tenant_id, vertical)
    staging = staging_generation(db, collection.id)
    if staging is None:
        return {
            "has_pending_replace": False,
            "staging_generation": None,
            "staging_status": None,
            "total": None,
            "indexed": None,
            "pending": None,
            "processing": None,
            "failed": None,
            "ready_to_swap": None,
        }
    counts = embedding_counts(db, collection, staging.number)
    return {
        "has_pending_replace": True,
        "staging_generation": staging.number,
        "staging_status": staging.status,
        "total": sum(counts.values()),
        "indexed": counts["indexed"],
        "pending": counts["pending"],
        "processing": counts["processing"],
        "failed": counts["failed"],
        "ready_to_swap": not any(counts[s] for s in UNFINISHED),
    }


# --- starting a replace --------------------------------------------------------------------------


def other_active_entities(db: Session, tenant_id: uuid.UUID, collection_id: uuid.UUID) -> int:
    """The tenant's active records in the active generations of its other collections."""
    return int(
        db.execute(
            sa.text(
                "SELECT count(*) FROM records r JOIN collections c "
                "  ON c.id = r.collection_id AND r.generation = c.active_generation "
                "WHERE r.tenant_id = :t AND c.tenant_id = :t AND r.collection_id <> :c AND r.status = 'active'"
            ),
            {"t": tenant_id, "c": collection_id},
        ).scalar_one()
    )


def check_quota(db: Session, tenant_id: uuid.UUID, collection_id: uuid.UUID, new_records: int) -> None:
    """QuotaExceeded unless other collections' entities plus `new_records` fit the plan's limit."""
    limit = db.execute(sa.text("SELECT entity_limit FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar()
    if limit is None:
        raise NotFound("tenant not found")
    others = other_active_entities(db, tenant_id, collection_id)
    if others + new_records > limit:
        raise QuotaExceeded(
            f"the replacement would hold {others + new_records} entities ({others} in other verticals "
            f"+ {new_records} new); the plan allows {limit}",
            extra={"entity_limit": int(limit), "other_entities": others, "new_records": new_records},
        )


def _create_staging(db: Session, collection: CollectionRef) -> int:
    """A new staging generation numbered after every earlier one; Conflict if one exists already."""
    try:
        with db.begin_nested():
            return db.execute(
                sa.text(
                    "INSERT INTO generations (id, tenant_id, collection_id, number, status) "
                    "SELECT :id, :t, :c, GREATEST(COALESCE(max(number), 0), :active) + 1, 'staging' "
                    "FROM generations WHERE collection_id = :c RETURNING number"
                ),
                {
                    "id": uuid.uuid4(),
                    "t": collection.tenant_id,
                    "c": collection.id,
                    "active": collection.active_generation,
                },
            ).scalar_one()
    except sa.exc.IntegrityError as exc:  # a concurrent replace won the unique index
        raise Conflict(f"Replace already in progress for vertical '{collection.name}'") from exc


def embedding_dimension(settings: Settings) -> int:
    """The vector size of the configured embedding provider."""
    from core.embeddings.factory import get_embedding_provider

    return int(get_embedding_provider(settings).dimension)


def start_replace(
    db: Session,
    *,
    tenant_id: uuid.UUID,
    vertical: str,
    data: bytes,
    filename: str | None,
    entity_type: str | None,
    index: VectorIndex,
    source_name: str | None = None,
    record_tag: str | None = None,
    dimension: int | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Ingest a file into a new staging generation of an existing collection, with its own vector
    collection, and commit; the active generation is untouched. Returns the ingestion result plus
    `staging {generation, status, vertical}`.

    NotFound (unknown vertical), ValidationFailed (no entity_type, unreadable file), PayloadTooLarge
    (over `max_upload_bytes`), Conflict (a staging generation exists), QuotaExceeded (other verticals'
    entities + the file's rows over the plan's limit; checked before anything is written)."""
    settings = settings or core.settings.get_settings()
    collection = get_collection(db, tenant_id, vertical)
    if entity_type is None or not entity_type.strip():
        raise ValidationFailed("entity_type is required")
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"file is {len(data)} bytes; the maximum is {settings.max_upload_bytes} bytes")
    if staging_generation(db, collection.id) is not None:
        raise Conflict(f"Replace already in progress for vertical '{vertical}'")
    try:
        source = parse_file(data, filename=filename, record_tag=record_tag)
        rows = list(source.rows)
    except InvalidInput as exc:
        raise ValidationFailed(f"invalid file: {exc.message}") from exc
    # an upper bound of what lands (rows the ingestion rejects or deduplicates are counted too)
    new_records = sum(1 for row in rows if isinstance(row, ParsedRow))
    check_quota(db, tenant_id, collection.id, new_records)

    number = _create_staging(db, collection)
    result = ingest_records(
        db,
        tenant_id=tenant_id,
        collection_name=vertical,
        records=rows,
        entity_type=entity_type,
        source_type="file_upload",
        source_name=source_name or filename,
        generation=number,
        create_collection=False,
        columns=source.columns or None,
        file_hash=f"sha256:{hashlib.sha256(data).hexdigest()}",
        filename=filename,
        file_format=source.format,
        encoding=source.encoding,
    )
    vectors = vector_collection_name(tenant_id, collection.id, number)
    index.create_collection(vectors, dimension or embedding_dimension(settings))
    try:
        db.commit()
    except BaseException:
        index.drop_collection(vectors)  # nothing refers to it: the generation was never committed
        raise
    log.info(
        "replace of %s/%s: staging generation %d with %d records (vectors %s)",
        tenant_id,
        vertical,
        number,
        result.accepted,
        vectors,
    )
    return {**result.to_dict(), "staging": {"generation": number, "status": "staging", "vertical": vertical}}


# --- swap and cancel -----------------------------------------------------------------------------


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
    vertical: str,
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
    collection = get_collection(db, tenant_id, vertical, lock=True)
    staging = staging_generation(db, collection.id, lock=True)
    if staging is None:
        raise Conflict(f"No staging generation to swap for vertical '{vertical}'")
    if generation is not None and staging.number != generation:
        raise Conflict(f"the staging generation of '{vertical}' is {staging.number}, not {generation}")
    if not fully_indexed(db, collection.id, staging.number):
        raise Conflict(f"Staging generation {staging.number} of '{vertical}' is not fully indexed")
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
        vertical=vertical,
        old_generation=old.number if old is not None else collection.active_generation,
        new_generation=staging.number,
        old_entity_count=int(old.record_count) if old is not None else 0,
        new_entity_count=int(staging.record_count),
        collection_id=collection.id,
        alias=alias,
        vector_collection=target,
        duration_ms=(time.perf_counter() - started) * 1000,
    )
    log.info(
        "swapped %s/%s: generation %d -> %d (alias %s -> %s) in %.1f ms",
        tenant_id,
        vertical,
        result.old_generation,
        result.new_generation,
        alias,
        target,
        result.duration_ms,
    )
    return result


def _drop_vectors(db: Session, index: VectorIndex, generation: GenerationRef) -> bool:
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


def cancel_replace(db: Session, tenant_id: uuid.UUID, vertical: str, index: VectorIndex) -> CancelResult:
    """Cancel the staging generation: it becomes cancelled, its records archived, its vector
    collection dropped; the active generation is untouched. Conflict when nothing is staged."""
    collection = get_collection(db, tenant_id, vertical, lock=True)
    staging = staging_generation(db, collection.id, lock=True)
    if staging is None:
        raise Conflict(f"No staging generation to cancel for vertical '{vertical}'")
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
        dropped = _drop_vectors(db, index, staging)
    except Exception:
        log.exception(
            "dropping the vectors of cancelled generation %d of %s failed", staging.number, vertical
        )
        dropped = False
    return CancelResult(vertical, staging.number, int(archived), dropped)


def set_auto_promote(db: Session, tenant_id: uuid.UUID, vertical: str, enabled: bool) -> dict[str, Any]:
    """Switch auto-promotion of ready staging generations on or off for one collection (the caller
    commits)."""
    collection = get_collection(db, tenant_id, vertical, lock=True)
    db.execute(
        sa.text(
            "UPDATE collections SET settings = settings || jsonb_build_object('auto_promote', CAST(:on AS boolean)), "
            "updated_at = now() WHERE id = :c"
        ),
        {"on": bool(enabled), "c": collection.id},
    )
    return {"vertical": vertical, "auto_promote": bool(enabled)}


# --- background work (Dagster) -------------------------------------------------------------------


def promotion_candidates(db: Session) -> list[PromotionCandidate]:
    """Staging generations, with at least one record and all of them indexed, of collections whose
    settings have `auto_promote` true."""
    rows = db.execute(
        sa.text(
            "SELECT c.tenant_id, c.id, c.name, g.number, g.record_count FROM collections c "
            "JOIN generations g ON g.collection_id = c.id AND g.status = 'staging' "
            "WHERE c.settings @> '{\"auto_promote\": true}'::jsonb AND g.record_count > 0 "
            "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.collection_id = c.id AND r.generation = g.number "
            "  AND r.embedding_status IN ('pending', 'processing')) "
            "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.collection_id = c.id AND r.generation = g.number "
            "  AND r.embedding_status = 'failed') "
            "ORDER BY c.id"
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
        if _drop_vectors(db, index, generation):
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
