"""Rebuild what makes records searchable (identifiers, `search_text`) and queue them for embedding."""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa

from core.errors import NotFound
from core.records.bulk import Executor, copy_rows, driver_connection, temp_table_name
from core.records.identifiers import extract_identifiers
from core.records.searchable import bump_search_version, rebuild_fields

log = logging.getLogger(__name__)

BATCH = 20_000


def _set_searchable(table: str) -> str:
    # the only SQL that rewrites search_text outside ingestion; table is a generated temp name
    return (
        f"UPDATE records r SET identifiers = t.identifiers, "
        f"search_text = kariz_record_tsv(r.name, r.record_type, r.description_llm, r.collection_data, t.identifiers), "
        f"embedding_status = 'pending', embedding_error = NULL, embedding_attempts = 0 "
        f"FROM {table} t WHERE r.id = t.id"
    )


def reindex_collection(db: Executor, tenant_id: uuid.UUID, collection_id: uuid.UUID) -> int:
    """Rebuild identifiers and search_text of every record of the collection (all generations), set
    them `embedding_status='pending'` and return how many were reset. NotFound for another tenant's
    collection. Runs in the caller's transaction."""
    owner = db.execute(
        sa.text("SELECT tenant_id FROM collections WHERE id = :id"), {"id": collection_id}
    ).scalar()
    if owner != tenant_id:
        raise NotFound(f"collection {collection_id} not found")
    raw = driver_connection(db)
    table = temp_table_name("reindex")
    total = 0
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {table} (id uuid PRIMARY KEY, identifiers text[]) ON COMMIT DROP")
        last = uuid.UUID(int=0)
        while True:
            cur.execute(
                "SELECT id, name, collection_data FROM records WHERE collection_id = %s AND id > %s "
                "ORDER BY id LIMIT %s",
                (collection_id, last, BATCH),
            )
            batch = cur.fetchall()
            if not batch:
                break
            last = batch[-1][0]
            copy_rows(
                cur,
                table,
                ("id", "identifiers"),
                ((rid, extract_identifiers(name, data)) for rid, name, data in batch),
            )
            cur.execute(_set_searchable(table))
            total += cur.rowcount
            cur.execute(f"TRUNCATE {table}")
        cur.execute(f"DROP TABLE {table}")
    rebuild_fields(db, collection_id)
    bump_search_version(db, collection_id)
    log.info("reindexed collection %s of tenant %s: %d records", collection_id, tenant_id, total)
    return total


def reindex_record(db: Executor, tenant_id: uuid.UUID, record_id: uuid.UUID) -> uuid.UUID:
    """Rebuild one record's identifiers and search_text and queue it for embedding; returns its
    collection id. NotFound when the record does not exist for this tenant."""
    row = db.execute(
        sa.text("SELECT collection_id, name, collection_data FROM records WHERE id = :id AND tenant_id = :t"),
        {"id": record_id, "t": tenant_id},
    ).first()
    if row is None:
        raise NotFound(f"record {record_id} not found")
    db.execute(
        sa.text(
            "UPDATE records SET identifiers = CAST(:ids AS text[]), "
            "search_text = kariz_record_tsv(name, record_type, description_llm, collection_data, CAST(:ids AS text[])), "
            "embedding_status = 'pending', embedding_error = NULL, embedding_attempts = 0 WHERE id = :id"
        ),
        {"ids": extract_identifiers(row.name, row.collection_data), "id": record_id},
    )
    bump_search_version(db, row.collection_id)
    return row.collection_id
