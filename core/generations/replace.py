"""Starting a blue-green replace: an uploaded file becomes a new staging generation of an existing
collection, with its own vector collection; the active generation is untouched.

`start_replace` commits itself: it orders its commit against the vector store (the vector collection
is created first and dropped again when the commit fails; `core/db/README.md`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

import core.settings
from core.collections import events
from core.errors import Conflict, InvalidInput, NotFound, QuotaExceeded, ValidationFailed
from core.generations.lookups import CollectionRef, get_collection, staging_generation
from core.ingestion.pipeline import IngestionResult, ingest_upload
from core.ingestion.rows import ParsedRow
from core.ingestion.uploads import prepare_upload, read_upload
from core.ingestion.validation import check_names
from core.settings import Settings
from core.vectors.base import VectorIndex, vector_collection_name

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplaceStarted:
    """A replace under way: the ingestion into the new staging generation, and its number."""

    ingestion: IngestionResult
    collection: str
    staging_generation: int


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
    collection_name: str,
    data: bytes,
    filename: str | None,
    entity_type: str | None,
    index: VectorIndex,
    source_name: str | None = None,
    record_tag: str | None = None,
    dimension: int | None = None,
    settings: Settings | None = None,
    key_column: str | None = None,
) -> ReplaceStarted:
    """Ingest a file into a new staging generation of an existing collection, with its own vector
    collection, and commit; the active generation is untouched. Returns the ingestion result and the
    staging generation's number.

    NotFound (unknown collection), ValidationFailed (no entity_type, unreadable file), PayloadTooLarge
    (over `max_upload_bytes`), Conflict (a staging generation exists), QuotaExceeded (other verticals'
    entities + the file's rows over the plan's limit; checked before anything is written). A keyed
    collection (its remembered key, or `key_column`; Conflict when another) keys the staging records.
    """
    settings = settings or core.settings.get_settings()
    collection = get_collection(db, tenant_id, collection_name)
    check_names(collection_name, entity_type, "file_upload", source_name)
    raw = read_upload(data, max_bytes=settings.max_upload_bytes)
    if staging_generation(db, collection.id) is not None:
        raise Conflict(f"Replace already in progress for vertical '{collection_name}'")
    try:
        upload = prepare_upload(raw, filename=filename, record_tag=record_tag, max_bytes=settings.max_upload_bytes)
        rows = list(upload.source.rows)
    except InvalidInput as exc:
        raise ValidationFailed(f"invalid file: {exc.message}") from exc
    # an upper bound of what lands (rows the ingestion rejects or deduplicates are counted too)
    new_records = sum(1 for row in rows if isinstance(row, ParsedRow))
    check_quota(db, tenant_id, collection.id, new_records)

    number = _create_staging(db, collection)
    result = ingest_upload(
        db,
        upload,
        tenant_id=tenant_id,
        collection_name=collection_name,
        entity_type=entity_type,
        source_name=source_name,
        generation=number,
        create_collection=False,
        rows=rows,
        key_column=key_column,
    )
    vectors = vector_collection_name(tenant_id, collection.id, number)
    index.create_collection(vectors, dimension or embedding_dimension(settings))
    try:
        db.commit()
    except BaseException:
        index.drop_collection(vectors)  # nothing refers to it: the generation was never committed
        raise
    names = events.names_of(db, collection.id)
    if names is not None:
        events.emit(names.event(
            events.GENERATION,
            f"staging generation {number} of {collection_name} loaded ({result.accepted} records)",
            {"operation": "replace", "staging_generation": number, "generation": collection.active_generation,
             "staging_records": result.accepted, "rows_rejected": result.rejected,
             "file_hash": result.file_hash or "", "duration_ms": result.processing_time_ms},
        ))
    log.info(
        "replace of %s/%s: staging generation %d with %d records (vectors %s)",
        tenant_id,
        collection_name,
        number,
        result.accepted,
        vectors,
    )
    return ReplaceStarted(ingestion=result, collection=collection_name, staging_generation=number)
