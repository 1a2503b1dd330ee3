"""The SQL side of "searchable": the tsvector expression, the field catalog and the search version.

`kariz_record_tsv(...)` is created by migration 0002_search. Everything that writes records (ingestion,
reindexing, swaps) uses the expression below and bumps the collection's search version so cached
search results of that collection stop being served.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.records.content import ISO_DATE_PATTERN

Executor = Session | sa.Connection


def search_text_sql(alias: str = "") -> str:
    """The SQL expression computing `search_text` from a row's own columns (`alias.` prefixed)."""
    p = f"{alias}." if alias else ""
    return (
        f"kariz_record_tsv({p}name, {p}record_type, {p}description_llm, {p}collection_data, {p}identifiers)"
    )


_ADD_FIELDS = sa.text(
    "INSERT INTO collection_fields (collection_id, generation, field, kind) "
    "SELECT :collection_id, :generation, f, k FROM unnest(CAST(:fields AS text[]), CAST(:kinds AS text[])) AS u(f, k) "
    "ON CONFLICT DO NOTHING"
)


def add_fields(
    db: Executor, collection_id: uuid.UUID, generation: int, pairs: Iterable[tuple[str, str]]
) -> None:
    """Record fields and kinds in the catalog of a collection generation (already-known pairs are kept)."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    db.execute(
        _ADD_FIELDS,
        {
            "collection_id": collection_id,
            "generation": generation,
            "fields": [f for f, _ in pairs],
            "kinds": [k for _, k in pairs],
        },
    )


_REBUILD_FIELDS = sa.text("DELETE FROM collection_fields WHERE collection_id = :collection_id;")
_SCAN_FIELDS = sa.text(
    "INSERT INTO collection_fields (collection_id, generation, field, kind) "
    "SELECT DISTINCT r.collection_id, r.generation, e.key, "
    "  CASE jsonb_typeof(e.value) WHEN 'string' THEN "
    "    CASE WHEN e.value #>> '{}' ~ :date_re THEN 'date' ELSE 'string' END "
    "  ELSE jsonb_typeof(e.value) END "
    "FROM records r, jsonb_each(r.collection_data) e WHERE r.collection_id = :collection_id "
    "ON CONFLICT DO NOTHING"
)


def rebuild_fields(db: Executor, collection_id: uuid.UUID) -> None:
    """Recompute the field catalog of every generation of a collection from its records."""
    db.execute(_REBUILD_FIELDS, {"collection_id": collection_id})
    db.execute(_SCAN_FIELDS, {"collection_id": collection_id, "date_re": ISO_DATE_PATTERN})


_BUMP = sa.text(
    "INSERT INTO search_versions (collection_id, version, updated_at) VALUES (:collection_id, 1, now()) "
    "ON CONFLICT (collection_id) DO UPDATE SET version = search_versions.version + 1, updated_at = now()"
)


def bump_search_version(db: Executor, collection_id: uuid.UUID) -> None:
    """Invalidate every cached search of the collection (call after any write to its records)."""
    db.execute(_BUMP, {"collection_id": collection_id})
