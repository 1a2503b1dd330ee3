"""What a tenant browses: its collections with counts and generations, a collection's field catalog
(with the few values a field takes, when it takes few), and one record.

Every function takes the tenant id and never reads another tenant's rows: an unknown or foreign
name or id is NotFound. Nothing here writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import NotFound

# a field whose sampled values number at most this many is offered as a pick list
PICK_LIST_MAX = 12
# how many of the active generation's records are sampled for those values (bounded work per field)
VALUE_SAMPLE_ROWS = 5000

_COLLECTIONS = sa.text(
    "SELECT c.id, c.name, c.active_generation, c.created_at, c.updated_at, "
    "  (SELECT g.number FROM generations g WHERE g.collection_id = c.id AND g.status = 'staging') AS staging, "
    "  (SELECT count(*) FROM records r WHERE r.tenant_id = c.tenant_id AND r.collection_id = c.id "
    "     AND r.generation = c.active_generation AND r.status = 'active') AS records "
    "FROM collections c WHERE c.tenant_id = :t AND (CAST(:n AS text) IS NULL OR c.name = :n) ORDER BY c.name"
)
_FIELDS = sa.text(
    "SELECT field, array_agg(kind ORDER BY kind) AS kinds FROM collection_fields "
    "WHERE collection_id = :c AND generation = :g GROUP BY field ORDER BY field"
)
_VALUES = sa.text(
    "SELECT v, count(*) AS n FROM ("
    "  SELECT collection_data ->> :f AS v FROM records "
    "  WHERE tenant_id = :t AND collection_id = :c AND generation = :g AND status = 'active' "
    "    AND collection_data ? :f LIMIT :sample) s "
    "WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT :top"
)
_RECORD = sa.text(
    "SELECT r.id, r.name, r.record_type, r.collection_data, r.description_llm, r.source_type, r.source_name, "
    "  r.status, r.embedding_status, r.embedding_error, r.generation, r.created_at, r.updated_at "
    "FROM records r JOIN collections c ON c.id = r.collection_id "
    "WHERE r.id = :id AND r.tenant_id = :t AND c.tenant_id = :t AND c.name = :n"
)


@dataclass(frozen=True)
class CollectionSummary:
    name: str
    active_generation: int
    staging_generation: int | None
    record_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FieldInfo:
    name: str
    kinds: list[str]
    # the values a field takes when it takes at most PICK_LIST_MAX of them (in the sample); else None
    values: list[str] | None = None


@dataclass(frozen=True)
class CollectionDetail:
    summary: CollectionSummary
    fields: list[FieldInfo] = field(default_factory=list)


@dataclass(frozen=True)
class RecordDetail:
    id: uuid.UUID
    collection: str
    name: str
    record_type: str
    collection_data: dict[str, Any]
    description_llm: str | None
    source_type: str
    source_name: str | None
    status: str
    embedding_status: str
    embedding_error: str | None
    generation: int
    created_at: datetime
    updated_at: datetime


def _summary(row: Any) -> CollectionSummary:
    return CollectionSummary(name=row.name, active_generation=row.active_generation, staging_generation=row.staging,
                             record_count=int(row.records), created_at=row.created_at, updated_at=row.updated_at)


def list_collections(session: Session, tenant_id: uuid.UUID) -> list[CollectionSummary]:
    """The tenant's collections by name, each with its active generation's active record count and the
    staging generation of a pending replace."""
    return [_summary(row) for row in session.execute(_COLLECTIONS, {"t": tenant_id, "n": None})]


def describe_collection(session: Session, tenant_id: uuid.UUID, name: str) -> CollectionDetail:
    """One collection with the field catalog of its active generation; string and boolean fields that
    take few values (in a bounded sample of records) list them, so a page can offer a pick list."""
    row = session.execute(_COLLECTIONS, {"t": tenant_id, "n": name}).one_or_none()
    if row is None:
        raise NotFound(f"collection '{name}' not found")
    found = _summary(row)
    fields = []
    for f in session.execute(_FIELDS, {"c": row.id, "g": row.active_generation}):
        kinds = list(f.kinds)
        values = None
        if "string" in kinds and "number" not in kinds:
            seen = session.execute(_VALUES, {"f": f.field, "t": tenant_id, "c": row.id, "g": row.active_generation,
                                             "sample": VALUE_SAMPLE_ROWS, "top": PICK_LIST_MAX + 1}).all()
            if len(seen) <= PICK_LIST_MAX:
                values = sorted(v for v, _ in seen)
        fields.append(FieldInfo(name=f.field, kinds=kinds, values=values))
    return CollectionDetail(summary=found, fields=fields)


def get_record(session: Session, tenant_id: uuid.UUID, collection: str, record_id: uuid.UUID) -> RecordDetail:
    """One record of the tenant's collection, whatever its generation or status."""
    row = session.execute(_RECORD, {"id": record_id, "t": tenant_id, "n": collection}).one_or_none()
    if row is None:
        raise NotFound(f"record {record_id} not found in collection '{collection}'")
    return RecordDetail(id=row.id, collection=collection, name=row.name, record_type=row.record_type,
                        collection_data=dict(row.collection_data or {}), description_llm=row.description_llm,
                        source_type=row.source_type, source_name=row.source_name, status=row.status,
                        embedding_status=row.embedding_status, embedding_error=row.embedding_error,
                        generation=row.generation, created_at=row.created_at, updated_at=row.updated_at)
